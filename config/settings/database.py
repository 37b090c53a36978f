"""The database: PostgreSQL from DATABASE_URL (stack), else a SQLite file under VAR_DIR."""

from pathlib import Path

from config.settings.base import VAR_DIR, env

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{Path(VAR_DIR, 'tickshop.sqlite3')}"),
}
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if IS_POSTGRES:
    # ASGI: a psycopg pool instead of persistent connections (Django docs).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Django's backend with a pool that checks a connection before lending it, at the cost of a
    # poll of its socket: after a database restart no request gets a dead connection it still held.
    DATABASES["default"]["ENGINE"] = "shop.core.postgres"
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5)
    )
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
