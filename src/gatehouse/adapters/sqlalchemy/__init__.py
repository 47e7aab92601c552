"""Persistence with SQLAlchemy Core on aiosqlite (embedded) or asyncpg (PostgreSQL)."""
