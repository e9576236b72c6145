"""Notifications to families and complainants: event-driven, templated in Bahasa Indonesia, sent from an outbox."""
