"""Shared fixtures. Database fixtures (SQLite and a throwaway PostgreSQL) live in conftest_db."""

pytest_plugins = ["tests.conftest_db"]
