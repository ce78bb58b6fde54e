"""SQL store: SQLAlchemy Core tables, repositories and Alembic migrations.

SQLite is the embedded default; MySQL (pymysql) is production. Both run the same
migrations and the same test suite.
"""
