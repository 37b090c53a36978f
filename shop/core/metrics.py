"""Prometheus metrics of every process of a deployment (SPEC §11).

prometheus-client in multiprocess mode: each process (web workers, Celery
worker processes, beat, the embedded ticker) writes its samples to small
mmap files in ``PROMETHEUS_MULTIPROC_DIR``, and a scrape of ``/metrics`` on
any web process reads and sums all of them. Files are named after a process
identifier, ``<host>-<pid>``, so containers sharing the directory (a volume)
never write each other's files.

Start-up (``serve``, the Celery worker and beat) calls ``metrics_dir_prepare``,
which removes the files of processes of this host that are gone; each scrape
drops the "live" gauges of dead processes (feed connections) so a crashed
worker's clients are not counted forever, and their files of zeros.
"""

import contextlib
import glob
import os
import re
import socket
from pathlib import Path

from django.conf import settings
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.mmap_dict import MmapedDict

_HOST = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "host"


def process_identifier() -> str:
    """``<host>-<pid>``: unique across containers that share the metrics directory.
    (No underscore: the collector splits file names on it.)"""
    return f"{_HOST}-{os.getpid()}"


# Before the first metric is made (it opens this process's files): the directory exists, and every
# process of the shop writes there. prometheus-client finds it in the environment, which the settings
# set from PROMETHEUS_MULTIPROC_DIR (config/settings/operations.py).
Path(settings.PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
values.ValueClass = values.MultiProcessValue(process_identifier)  # type: ignore[no-untyped-call]

# Seconds: from a cached read (1 ms) to a slow tick of 100,000 goods.
DURATION_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
GOODS_BUCKETS = (0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)

HTTP_REQUESTS = Counter("tickshop_http_requests", "HTTP requests answered.", ("method", "route", "status"))
HTTP_DURATION = Histogram(
    "tickshop_http_request_duration_seconds",
    "Time to answer an HTTP request, by URL pattern.",
    ("method", "route"),
    buckets=DURATION_BUCKETS,
)
TICK_DURATION = Histogram(
    "tickshop_tick_duration_seconds",
    "Time of one tick, from the slot claimed to the commit.",
    buckets=DURATION_BUCKETS,
)
TICK_GOODS = Histogram("tickshop_tick_goods", "Goods repriced by one tick.", buckets=GOODS_BUCKETS)
TICK_SLOTS_SKIPPED = Counter(
    "tickshop_tick_slots_skipped",
    "Tick slots that got no tick (the previous tick was still running, or none ran).",
)
TICK_LAST_SUCCESS = Gauge(
    "tickshop_tick_last_success_timestamp_seconds",
    "Unix time of the newest committed tick.",
    multiprocess_mode="max",
)
FEED_CONNECTIONS = Gauge(
    "tickshop_feed_connections", "Open live-feed WebSocket connections.", multiprocess_mode="livesum"
)
FEED_BATCH_LAG = Histogram(
    "tickshop_feed_batch_lag_seconds",
    "From a batch's write (its timestamp, taken just before commit) to its message handed to a client's socket.",
    buckets=DURATION_BUCKETS,
)
FEED_DROPPED = Counter(
    "tickshop_feed_dropped", "Live-feed connections refused or dropped by a limit.", ("reason",)
)
ORDERS = Counter("tickshop_orders", "Order creation attempts, by outcome.", ("outcome",))
ALERTS_FIRED = Counter("tickshop_alerts_fired", "Price alerts fired (SPEC §15).")
STANDING_ORDERS_FILLED = Counter("tickshop_standing_orders_filled", "Standing orders filled (SPEC §15).")
THROTTLED = Counter("tickshop_throttled", "Requests refused with 429, by limit.", ("scope",))
HTTP_SHED = Counter(
    "tickshop_http_shed",
    "HTTP requests not run: refused with 503 while the web threads' queue was full, or dropped "
    "because the client left while they waited.",
    ("reason",),
)
WEBHOOK_BATCHES_DROPPED = Counter(
    "tickshop_webhook_batches_dropped",
    "prices.batch deliveries dropped unsent: more than WEBHOOK_MAX_PENDING_BATCHES newer ones waited.",
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "tickshop_webhook_endpoints_disabled",
    "Webhook endpoints switched off after failing for WEBHOOK_DISABLE_AFTER_SECONDS.",
)

# tickshop_orders_total{outcome}
ORDER_CREATED = "created"
ORDER_REPLAYED = "replayed"
ORDER_SUM_TOO_HIGH = "order_sum_too_high"
ORDER_INVALID = "invalid"

# tickshop_feed_dropped_total{reason}
DROP_SLOW_READER = "slow_reader"  # its outbox filled up
DROP_NOT_READING = "not_reading"  # its socket did not drain for FEED_SEND_TIMEOUT_SECONDS
DROP_TOO_MANY_CONNECTIONS = "too_many_connections"
DROP_MESSAGE_TOO_BIG = "message_too_big"

# Every outcome and reason is exposed from the start, at 0, so rates and alerts see a series.
for _outcome in (ORDER_CREATED, ORDER_REPLAYED, ORDER_SUM_TOO_HIGH, ORDER_INVALID):
    ORDERS.labels(_outcome)
for _reason in (DROP_SLOW_READER, DROP_NOT_READING, DROP_TOO_MANY_CONNECTIONS, DROP_MESSAGE_TOO_BIG):
    FEED_DROPPED.labels(_reason)


def _pid_of(path: str) -> tuple[str, int] | None:
    """(host, pid) of a metrics file ``<kind>[_<mode>]_<host>-<pid>.db``."""
    identifier = Path(path).name.removesuffix(".db").rsplit("_", 1)[-1]
    host, _, pid = identifier.rpartition("-")
    return (host, int(pid)) if pid.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) answers signal 0 but is gone
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _dead_processes(directory: str) -> set[str]:
    dead = set()
    for path in glob.glob(os.path.join(directory, "*.db")):
        owner = _pid_of(path)
        if owner is not None and owner[0] == _HOST and not _alive(owner[1]):
            dead.add(f"{owner[0]}-{owner[1]}")
    return dead


def metrics_dir_prepare() -> None:
    """At start-up: the directory exists, and the files of processes of this host that are gone are
    removed (their counts end with them, as a restarted process' would; Prometheus reads the drop
    as a counter reset)."""
    directory = str(settings.PROMETHEUS_MULTIPROC_DIR)
    Path(directory).mkdir(parents=True, exist_ok=True)
    for identifier in _dead_processes(directory):
        for path in glob.glob(os.path.join(directory, f"*_{identifier}.db")):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)


def _only_zeros(path: str) -> bool:
    try:
        values_ = MmapedDict.read_all_values_from_file(path)  # type: ignore[no-untyped-call]
        return all(value == 0 for _, value, _, _ in values_)
    except (OSError, ValueError):
        return False


def metrics_text() -> bytes:
    """Every process' samples, summed, in Prometheus' text format.

    Processes that are gone: their live gauges (feed connections) stop counting, and files that
    hold nothing but zeros are removed (short-lived commands, ``celery inspect`` health checks,
    import the metrics too and would otherwise leave a file each)."""
    directory = str(settings.PROMETHEUS_MULTIPROC_DIR)
    for identifier in _dead_processes(directory):
        multiprocess.mark_process_dead(identifier, directory)  # type: ignore[no-untyped-call]  # live gauges only
        for path in glob.glob(os.path.join(directory, f"*_{identifier}.db")):
            if _only_zeros(path):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
