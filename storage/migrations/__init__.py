"""Alembic migrations for the claimwatch schema (run them with ``storage.migrate``)."""
