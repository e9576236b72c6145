"""Alembic environment of the registry service."""

from alembic import context

from shared.db.migrations import run_env

run_env(context)
