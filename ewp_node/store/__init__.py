"""Storage: SQLAlchemy 2 models and repositories, Alembic migrations.

Rule: one ``metadata`` (``base.py``), one repository module of plain functions per aggregate, each taking a
``Session``. Schemas are built by migrations only (``upgrade_database``), never by ``create_all``.
SQLite is the embedded default; PostgreSQL (psycopg 3) is the production database.
"""
