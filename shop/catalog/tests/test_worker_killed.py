"""A Celery worker killed (SIGKILL) in the middle of a tick: all of a tick's prices or none.

A sale of 20,000 goods makes a tick take long enough to be caught writing its
prices. The test watches PostgreSQL for the transaction that holds the tick
lock and is writing prices, kills the process running it, and checks that
nothing of that tick was committed, that every committed tick is whole, and
that ticking goes on. Twice: once the pool process that runs the task (the
worker replaces it), once the whole worker (a new one is started).
"""

import os
import signal
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db.models import Count

from shop.catalog.models import Goods, Price, Sale, Tick
from shop.catalog.services.ticks import TICK_LOCK
from shop.core.schedules import schedules_ensure
from shop.tests.factories import SaleFactory
from shop.tests.live import CELERY, RedisProcess, celery, process, service_env, wait_until
from shop.tests.live import test_database_url as database_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GOODS = 20_000

# The backend holding the tick's advisory lock in this database (a bigint key: classid is its
# high half, objid its low; other databases on the server have ticks of their own).
TICK_HOLDER = """
    SELECT a.pid, a.xact_start, a.query, a.state
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND ((l.classid::bigint << 32) | l.objid::bigint) = %s
"""


@dataclass
class Caught:
    pid: int
    xact_start: Any
    query: str


def writing_prices(query: str) -> bool:
    """A statement that writes, other than the tick row's own (pg_stat_activity truncates long
    statements, so the table written may not be in the text)."""
    text = query.lstrip().lower()
    return text.startswith(("with", "insert", "update", "copy")) and "catalog_tick" not in text


def catch_a_tick_writing(db: psycopg.Connection[Any], timeout: float = 60) -> Caught:
    """Poll until the tick's transaction is writing its prices (uncommitted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = db.execute(TICK_HOLDER, [TICK_LOCK]).fetchone()
        if row and row[3] == "active" and writing_prices(row[2]):
            return Caught(pid=row[0], xact_start=row[1], query=row[2])
        time.sleep(0.002)
    raise TimeoutError("no tick was caught writing its prices")


def backend_gone(db: psycopg.Connection[Any], pid: int) -> bool:
    return db.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() == (0,)


def pool_children(worker_pid: int) -> list[int]:
    children = Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def ticks_are_whole() -> tuple[int, int]:
    """Every committed tick has all GOODS prices, and there is no tick price outside one.

    Returns (committed ticks, tick prices)."""
    done = list(Tick.objects.filter(goods_count__gt=0).values_list("goods_count", flat=True))
    assert set(done) <= {GOODS}
    groups = list(
        Price.objects.filter(source=Price.Source.TICK)
        .values("created_at")
        .annotate(n=Count("id"))
        .values_list("n")
    )
    assert all(n == GOODS for (n,) in groups), sorted({n for (n,) in groups})
    assert len(groups) == len(done)
    return len(done), len(groups) * GOODS


def kill_mid_tick(db: psycopg.Connection[Any], kill: Callable[[], None]) -> bool:
    """Catch a tick writing its prices and kill; True when the kill beat its commit.

    (The statement may end and the tick commit in the instant between seeing it
    and the kill landing; then it was no kill mid-tick, and the caller tries again.)
    """
    caught = catch_a_tick_writing(db)
    kill()
    wait_until(lambda: backend_gone(db, caught.pid), timeout=60)
    return not Tick.objects.filter(started_at__gte=caught.xact_start, goods_count__gt=0).exists()


def whole_ticks() -> int:
    return Tick.objects.filter(goods_count=GOODS).count()


def test_a_worker_killed_mid_tick_commits_nothing_of_that_tick(
    usd: Any, tmp_path: Path, redis: RedisProcess
) -> None:
    # given: a running sale of 20,000 goods, beat and one worker with one pool process
    sale = SaleFactory(goods=[])
    goods = Goods.objects.bulk_create([Goods(name=f"Goods {i}") for i in range(GOODS)], batch_size=5000)
    Sale.goods.through.objects.bulk_create(
        [Sale.goods.through(sale_id=sale.id, goods_id=g.id) for g in goods], batch_size=5000
    )
    schedules_ensure()
    env = service_env(REDIS_URL=redis.url, PRICE_TICK_SECONDS="5", LOG_FORMAT="plain")
    worker_args = [CELERY, "-A", "config", "worker", "--loglevel=INFO", "--concurrency=1", "--without-gossip"]
    kills = mid_tick = 0
    with ExitStack() as stack:
        db = stack.enter_context(psycopg.connect(database_url(), autocommit=True))
        stack.enter_context(celery("beat", env, tmp_path / "beat.log"))
        workers = [stack.enter_context(process(worker_args, env, tmp_path / "worker-1.log"))]

        # when: the pool process running a tick is killed while the tick writes its prices
        def kill_pool_process() -> None:
            (child,) = pool_children(workers[-1].pid)
            os.kill(child, signal.SIGKILL)

        for _ in range(5):
            kills += 1
            if kill_mid_tick(db, kill_pool_process):
                mid_tick += 1
                break
        # then: nothing of that tick was committed (kill_mid_tick), every committed tick is whole
        ticks_are_whole()
        # and the worker replaced its pool process: ticks go on, whole
        after = whole_ticks()
        wait_until(lambda: whole_ticks() > after, timeout=60)

        # when: the whole worker is killed while a tick writes its prices
        def kill_worker() -> None:
            os.killpg(workers[-1].pid, signal.SIGKILL)
            workers[-1].wait()

        for attempt in range(5):
            kills += 1
            if kill_mid_tick(db, kill_worker):
                mid_tick += 1
                break
            log = tmp_path / f"worker-{attempt + 2}.log"
            workers.append(stack.enter_context(process(worker_args, env, log)))
        # then: the same; the tick's advisory lock died with its connection
        ticks_are_whole()
        # and a new worker ticks again, whole ticks
        after = whole_ticks()
        stack.enter_context(process(worker_args, env, tmp_path / "worker-last.log"))
        wait_until(lambda: whole_ticks() > after, timeout=60)
    ticks, prices = ticks_are_whole()
    assert mid_tick == 2
    print(f"worker kills: {kills}, {mid_tick} mid-tick; {ticks} whole ticks ({prices} prices) committed")
