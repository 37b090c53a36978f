"""PostgreSQL stopped and started again under a running stack (a private cluster).

The web server, a Celery worker and beat run against a PostgreSQL cluster
this test owns; nothing is restarted but the database.
"""

import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from shop.tests.live import PYTHON, ROOT, RedisProcess, asgi_server, call, celery, service_env, wait_until
from shop.tests.postgres import PostgresProcess

pytestmark = pytest.mark.slow

ADMIN = {"email": "ops@example.com", "password": "a-long-operator-password"}


def newest_tick_at(base: str) -> str:
    status, page = call(f"{base}/api/prices/?limit=50")
    assert status == 200, page
    return max((p["created_at"] for p in page["results"] if p["source"] == "tick"), default="")


@pytest.fixture
def postgres() -> Iterator[PostgresProcess]:
    server = PostgresProcess()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.destroy()


def test_stack_survives_a_postgres_restart(
    postgres: PostgresProcess, redis: RedisProcess, tmp_path: Path
) -> None:
    # given: a stack (server, worker, beat) on a private, migrated PostgreSQL with the demo data
    env = service_env(
        DATABASE_URL=postgres.url,
        REDIS_URL=redis.url,
        PRICE_TICK_SECONDS="1",
        DB_POOL_TIMEOUT="3",
        ADMIN_EMAIL=ADMIN["email"],
        ADMIN_PASSWORD=ADMIN["password"],
    )
    subprocess.run(
        [PYTHON, "manage.py", "prepare"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=180
    )
    with ExitStack() as stack:
        base = stack.enter_context(asgi_server(env, tmp_path / "server.log"))
        stack.enter_context(celery("worker", env, tmp_path / "worker.log"))
        stack.enter_context(celery("beat", env, tmp_path / "beat.log"))
        status, tokens = call(f"{base}/auth/jwt/create/", "POST", body=ADMIN)
        assert status == 200, tokens
        token = tokens["access"]
        goods = call(f"{base}/api/goods/")[1]["results"][0]["id"]
        order = {"items": [{"goods": goods, "quantity": 1}]}
        assert call(f"{base}/api/orders/", "POST", token, order)[0] == 201
        wait_until(lambda: newest_tick_at(base) != "", timeout=90)  # beat and the worker start first

        # when: PostgreSQL goes away
        postgres.stop()
        # then: health says so, quickly and in JSON, and requests fail cleanly (503, JSON)
        started = time.monotonic()
        status, health = call(f"{base}/healthz")
        assert (status, health["status"], health["database"], health["redis"]) == (
            503,
            "unavailable",
            "down",
            "ok",
        )
        assert time.monotonic() - started < 10
        status, body = call(f"{base}/api/goods/")
        assert (status, body["code"]) == (503, "unavailable"), body
        status, body = call(f"{base}/api/orders/", "POST", token, order)
        assert (status, body["code"]) == (503, "unavailable"), body
        time.sleep(2)

        # when: PostgreSQL is back, with nothing else restarted
        postgres.start()
        wait_until(lambda: call(f"{base}/healthz")[0] == 200, timeout=30)
        # then: every request succeeds again (no broken pooled connection is handed out)
        statuses = [call(f"{base}/api/goods/{goods}/")[0] for _ in range(30)]
        assert statuses == [200] * 30
        assert call(f"{base}/api/orders/", "POST", token, order)[0] == 201
        assert call(f"{base}/auth/jwt/create/", "POST", body=ADMIN)[0] == 200
        status, orders = call(f"{base}/api/orders/", token=token)
        assert (status, orders["count"]) == (200, 2)
        # and the ticker resumes
        before = newest_tick_at(base)
        wait_until(lambda: newest_tick_at(base) > before, timeout=60)

        # when: a quick restart while the server is idle: every connection in its pool dies
        postgres.stop()
        postgres.start()
        wait_until(lambda: call(f"{base}/healthz")[0] == 200, timeout=30)  # the server finished starting
        # then: not one request fails (the pool checks a connection before lending it)
        statuses = [call(f"{base}/api/goods/{goods}/")[0] for _ in range(30)]
        assert statuses == [200] * 30
        assert call(f"{base}/api/orders/", "POST", token, order)[0] == 201
