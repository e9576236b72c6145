"""programmes of the disbursement service."""
