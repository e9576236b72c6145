"""payments of the disbursement service."""
