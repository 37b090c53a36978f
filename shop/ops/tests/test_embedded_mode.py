"""`make run` from nothing: SQLite under VAR_DIR, in-process ticker, the feed."""

import asyncio
import json
import os
import urllib.request
from pathlib import Path

import pytest
import websockets

from shop.tests.live import http_ok, listening_process

pytestmark = pytest.mark.slow


def get_json(url: str, data: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    body = json.dumps(data).encode() if data else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local server
        return json.load(response)  # type: ignore[no-any-return]


def test_make_run_starts_from_nothing_ticks_and_feeds(tmp_path: Path) -> None:
    # given: a machine with no database and no Redis configured
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        VAR_DIR=str(tmp_path / "var"),
        PRICE_TICK_SECONDS="1",
        ADMIN_EMAIL="admin@example.com",
        ADMIN_PASSWORD="a-long-admin-password",
    )
    log = tmp_path / "run.log"

    def make_run(port: int) -> tuple[list[str], dict[str, str]]:
        return ["make", "--no-print-directory", "run"], {**env, "PORT": str(port)}

    def healthy(port: int) -> bool:
        return http_ok(f"http://127.0.0.1:{port}/healthz")

    # when (migrating a new SQLite database and loading the demo data take a while on a loaded machine)
    with listening_process(make_run, log, ready=healthy, timeout=120) as (port, _):
        base = f"http://127.0.0.1:{port}"
        # then: embedded mode, its SQLite file, demo data and the staff user
        health = get_json(f"{base}/healthz")
        assert (health["status"], health["mode"]) == ("ok", "embedded")
        assert (tmp_path / "var" / "tickshop.sqlite3").exists()
        output = log.read_text()
        assert f"{base}/api/docs/" in output and f"{base}/admin/" in output
        tokens = get_json(
            f"{base}/auth/jwt/create/", {"email": "admin@example.com", "password": "a-long-admin-password"}
        )
        assert "access" in tokens
        sale = get_json(f"{base}/api/sales/")["results"][0]
        assert sale["is_running"]

        # prices of the running sale move on their own, and the feed carries them
        async def two_batches() -> list[dict]:  # type: ignore[type-arg]
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws/price_updates/?currency=EUR") as ws:
                seen = []
                while len(seen) < 2:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if message["type"] == "prices":
                        seen.append(message)
                return seen

        first, second = asyncio.run(two_batches())
        assert second["seq"] == first["seq"] + 1
        assert {p["goods"] for p in first["prices"]} == set(sale["goods"])
        history = get_json(f"{base}/api/prices/?goods={sale['goods'][0]}")["results"]
        assert {p["source"] for p in history[:2]} == {"tick"}
