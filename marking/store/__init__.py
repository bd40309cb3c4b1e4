"""Storage: the typed SQLAlchemy models, engines and transactions, the exact-mark column, the
schema and its Alembic migrations.
"""
