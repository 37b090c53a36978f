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
    # Every connection: no JIT, and a statement timeout. PostgreSQL's JIT compiles a statement whose
    # estimated cost is high (a search of many terms on a table without statistics: seconds of LLVM
    # work) and the compilation stops for neither a cancel nor a terminate, so a burst of such
    # requests held backends for minutes after their clients left; the shop's statements are short
    # and gain nothing from it. The timeout ends any web request's statement past it (answered 503
    # ``too_slow``); ticks and the price history's upkeep set their own (TICK_STATEMENT_TIMEOUT_SECONDS)
    # and migrations run without one.
    DB_STATEMENT_TIMEOUT_SECONDS = env.float("DB_STATEMENT_TIMEOUT_SECONDS", default=5.0)
    DATABASES["default"]["OPTIONS"]["options"] = " ".join(
        filter(
            None,
            (
                DATABASES["default"]["OPTIONS"].get("options", ""),
                "-c jit=off",
                f"-c statement_timeout={int(DB_STATEMENT_TIMEOUT_SECONDS * 1000)}",
            ),
        )
    )
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
