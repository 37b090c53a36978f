"""Real processes for end-to-end tests: the ASGI server, Celery, a private Redis."""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CELERY = str(Path(PYTHON).with_name("celery"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_url() -> str:
    """The URL of the database this test runs against (pytest-django's test database)."""
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def service_env(**overrides: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": test_database_url(), "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO",
           "WEB_CONCURRENCY": "1"}  # fmt: skip
    env.update(overrides)
    return env


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # noqa: S110 - the thing waited for is not up yet
            pass
        time.sleep(interval)
    raise TimeoutError(f"gave up waiting after {timeout} s")


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local test server
        return bool(response.status == 200)


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def asgi_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """``manage.py serve`` (uvicorn) on a free port; yields its base URL."""
    port = free_port()
    env = {**env, "PORT": str(port), "HOST": "127.0.0.1"}
    with process([PYTHON, "manage.py", "serve", "--no-prepare"], env, log):
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_ok(f"{base}/healthz"), timeout=30)
        yield base


@contextmanager
def celery(role: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    args = [CELERY, "-A", "config", role, "--loglevel=INFO"]
    if role == "worker":
        args += ["--concurrency=2", "--without-gossip", "--without-mingle"]
    with process(args, env, log) as proc:
        yield proc


class RedisProcess:
    """A private redis-server on a free port (never the machine's shared one)."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=1).close() is None)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


def json_request(
    url: str,
    method: str = "GET",
    token: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> urllib.request.Request:
    """A request to a live server, with a bearer token and a JSON body when given."""
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    if data:
        headers["Content-Type"] = "application/json"
    return urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - local


def call(url: str, method: str = "GET", token: str | None = None, body: Any = None) -> tuple[int, Any]:
    """One JSON request to a live server: (status, decoded body), errors included."""
    try:
        with urllib.request.urlopen(json_request(url, method, token, body), timeout=30) as response:  # noqa: S310
            return response.status, json.load(response)
    except HTTPError as error:
        return error.code, json.load(error)


def run_async(coro: Any) -> Any:
    """Run a WebSocket scenario to its end, 30 s at most."""
    return asyncio.run(asyncio.wait_for(coro, 30))


async def next_of(ws: Any, kind: str) -> dict[str, Any]:
    """The next feed message of this type, skipping the others."""
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == kind:
            return message


async def subscribe(ws: Any, goods: list[Any], request_id: Any = None) -> None:
    """Ask the feed for these goods; the answer carries ``request_id`` when one is given."""
    message: dict[str, Any] = {"action": "subscribe", "goods": goods}
    if request_id is not None:
        message["id"] = request_id
    await ws.send(json.dumps(message))
