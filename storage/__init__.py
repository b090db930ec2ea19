"""Persistence: SQLAlchemy 2 (async) implementations of the core's repositories and unit of work."""
