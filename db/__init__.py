"""Database layer: Piccolo tables, migrations and the engine chosen by `DATABASE_URL`."""
