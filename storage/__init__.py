"""Durable storage: SQLModel tables, the engine, queries and Alembic migrations.

Imports nothing of the project above it: only `domain`, the leaf of the domain's words.
"""
