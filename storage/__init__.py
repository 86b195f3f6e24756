"""The tracking store: SQLAlchemy models, engine setup, queries and Alembic migrations.

Imports nothing from bot/ or handlers/.
"""
