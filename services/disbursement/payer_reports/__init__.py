"""payer_reports of the disbursement service."""
