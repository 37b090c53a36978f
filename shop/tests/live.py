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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

from django.db import connection, connections

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CELERY = str(Path(PYTHON).with_name("celery"))


def free_port() -> int:
    """A port that was free a moment ago: another process may take it before ours binds it
    (see ``listening_process``)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening_sockets(port: int) -> set[str]:
    """The sockets listening on this TCP port (any address), as /proc/*/fd links name them."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                found.add(f"socket:[{inode}]")
    return found


def listens(proc: subprocess.Popen[bytes], port: int) -> bool:
    """True when ``proc`` or a process it started (its session: ``process`` starts one) holds a
    socket listening on ``port``. Then what answers there is ours, not a server of another test
    run that took the port between ``free_port`` and our bind (ours then exits: address in use)."""
    sockets = _listening_sockets(port)
    if not sockets:
        return False
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getsid(int(pid)) != proc.pid:
                continue
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in sockets for fd in os.listdir(f"/proc/{pid}/fd")):
                return True
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return False


def came_up(proc: subprocess.Popen[bytes], port: int, ready: Callable[[int], bool], timeout: float) -> bool:
    """Wait until ``proc`` listens on ``port`` and ``ready(port)`` (True), or exits (False)."""
    wait_until(lambda: proc.poll() is not None or (listens(proc, port) and ready(port)), timeout)
    return proc.poll() is None


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
def listening_process(
    command: Callable[[int], tuple[list[str], dict[str, str]]],
    log: Path,
    ready: Callable[[int], bool] = lambda port: True,
    timeout: float = 60,
    attempts: int = 5,
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``command(port)`` (its args and environment) started on a free port; yields (port, process)
    once the process itself listens there and ``ready(port)``. A port taken by someone else between
    ``free_port`` and the bind makes the process exit: it is started again on another port."""
    for _ in range(attempts):
        port = free_port()
        args, env = command(port)
        with process(args, env, log) as proc:
            if came_up(proc, port, ready, timeout):
                yield port, proc
                return
    raise RuntimeError(f"{args[0]} exited {attempts} times before listening; see {log}")


@contextmanager
def asgi_server_process(env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``manage.py serve`` (uvicorn) on a free port; yields its base URL and its process."""

    def command(port: int) -> tuple[list[str], dict[str, str]]:
        return [PYTHON, "manage.py", "serve", "--no-prepare"], {**env, "PORT": str(port), "HOST": "127.0.0.1"}

    def healthy(port: int) -> bool:
        return http_ok(f"http://127.0.0.1:{port}/healthz")

    with listening_process(command, log, ready=healthy) as (port, proc):
        yield f"http://127.0.0.1:{port}", proc


@contextmanager
def asgi_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """``manage.py serve`` (uvicorn) on a free port; yields its base URL."""
    with asgi_server_process(env, log) as (base, _):
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
        self.started = False  # once started, it keeps its port: its clients know the URL

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        for _ in range(5):
            args = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
            args += ["--save", "", "--appendonly", "no"]
            with self.log.open("ab") as out:
                proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            self.proc = proc
            # Listening itself: a server that took the port first (ours then exits) is not ours.
            if came_up(proc, self.port, ready=lambda port: True, timeout=20):
                self.started = True
                return
            if self.started:
                break
            self.port = free_port()  # taken before the first start: another one
        raise RuntimeError(f"redis-server could not listen on port {self.port}; see {self.log}")

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
    """Run a WebSocket scenario to its end, 60 s at most (a loaded machine is slow, not stuck)."""
    return asyncio.run(asyncio.wait_for(coro, 60))


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


def closing(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn`` in a worker thread and give its database connection back afterwards."""

    def run(*args: Any) -> Any:
        try:
            return fn(*args)
        finally:
            connections.close_all()

    return run
