"""Shared set-up for the benchmarks: a separate database, Django, figures printed.

Every benchmark prints lines of ``key=value`` pairs (one measurement a line,
starting with ``bench=<name>``), readable by a person and by ``grep``/``awk``.
"""

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tickshop_bench"
)
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def setup() -> None:
    """Create the bench database when missing, migrate it, start Django."""
    name = DATABASE_URL.rsplit("/", 1)[1]
    admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    names = subprocess.run(
        ["psql", admin_url, "-tAc", "SELECT datname FROM pg_database"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if name not in names:
        subprocess.run(["psql", admin_url, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def report(name: str, **figures: object) -> None:
    parts = [f"bench={name}"] + [
        f"{key}={value:.1f}" if isinstance(value, float) else f"{key}={value}"
        for key, value in figures.items()
    ]
    print(" ".join(parts), flush=True)


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {"median_ms": statistics.median(ms), "p99_ms": percentile(ms, 99), "max_ms": max(ms)}


def machine() -> str:
    cores = os.cpu_count()
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cores} cores, {mem_gb:.0f} GiB"


class Timer:
    def __enter__(self) -> "Timer":
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


@contextmanager
def server(*, log_name: str, workers: int | None = None, **env: str) -> Iterator[int]:
    """``manage.py serve`` on the bench database (``workers`` processes, else the default); yields its port."""
    port = 18_000 + os.getpid() % 2000
    if workers is not None:
        env = {"WEB_CONCURRENCY": str(workers), **env}
    environment = {**os.environ, "DATABASE_URL": DATABASE_URL, "PORT": str(port),
                   "PRICE_TICKER": "off", "LOG_LEVEL": "WARNING",
                   "THROTTLE_ORDERS_PER_USER": "",  # one bench user places every order
                   **env}  # fmt: skip
    (ROOT / "var").mkdir(exist_ok=True)
    with (ROOT / "var" / log_name).open("wb") as log:
        process = subprocess.Popen([sys.executable, "manage.py", "serve", "--no-prepare"], cwd=ROOT,
                                   env=environment, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", seconds=30)
            yield port
        finally:
            process.terminate()
            process.wait()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - local
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def started(args: list[str], env: dict[str, str], log: str) -> Iterator[subprocess.Popen[bytes]]:
    with (ROOT / "var" / log).open("wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# The reference the REST figures are ratios of (SPEC §9): uvicorn with uvloop and httptools, 2 workers.
CEILING_WORKERS = 2


def uvicorn_argv(app: str, port: int) -> list[str]:
    """uvicorn as the ceiling runs it, serving ``app`` on ``port``."""
    return [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--workers", str(CEILING_WORKERS),
            "--loop", "uvloop", "--http", "httptools", "--log-level", "warning"]  # fmt: skip


@contextmanager
def ceiling_view(bodies: dict[str, str], *, name: str) -> Iterator[str]:
    """``bench/ceiling.py``, the bare Django view, answering ``bodies`` (path -> the bytes the
    shop answered there); yields its base URL once it answers."""
    bodies_file = ROOT / "var" / f"{name}-bodies.json"
    bodies_file.write_text(json.dumps(bodies))
    port = free_port()
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "CEILING_BODIES": str(bodies_file)}
    with started(uvicorn_argv("bench.ceiling:application", port), env, f"{name}.log"):
        base = f"http://127.0.0.1:{port}"
        wait_http(base + next(iter(bodies)))
        yield base
