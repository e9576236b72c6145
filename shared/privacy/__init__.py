"""One field policy for personal data in every service's responses (see shared/privacy/policy.py)."""
