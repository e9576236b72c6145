"""reports of the disbursement service."""
