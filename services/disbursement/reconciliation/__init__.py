"""reconciliation of the disbursement service."""
