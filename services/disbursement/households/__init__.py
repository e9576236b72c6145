"""households of the disbursement service."""
