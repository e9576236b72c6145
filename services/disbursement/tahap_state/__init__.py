"""A tahap's record: its tables, its state machine and the guarded status change (below payments and tahap)."""
