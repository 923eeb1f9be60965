"""Durable storage: SQLModel tables, the engine, queries and Alembic migrations.

Imports nothing of the project but `leadrelay.settings`' leaf types where needed.
"""
