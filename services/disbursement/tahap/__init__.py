"""tahap of the disbursement service."""
