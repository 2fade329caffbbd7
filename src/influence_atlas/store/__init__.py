"""Storage behind one small interface: SQLite by default, any SQLAlchemy URL (PostgreSQL) by the same code."""

from .db import Store, database_url, open_store

__all__ = ["Store", "database_url", "open_store"]
