"""The disbursement's half of the public status check: a family's programmes in each programme's current tahap and
the payment status, for the gateway only."""
