"""Republish: the current state of families sent again on registry.household.v1, so that every consumer's read
model catches up (an ops backfill, e.g. the member digests of families whose last event predates the field)."""
