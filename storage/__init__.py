"""Durable storage: SQLModel tables, the engine, queries and Alembic migrations.

Imports nothing of the project but `config.settings`' leaf types where needed.
"""
