"""A Celery worker killed (SIGKILL) in the middle of a tick: whole chunks only.

A tick reprices its goods in chunks, each its own transaction. A sale of
20,000 goods (four chunks) makes a tick take long enough to be caught writing
a chunk's prices. The test watches PostgreSQL for a connection writing a
chunk (a tick writes on TICK_WRITERS of them), kills the process running it, and checks
that every committed chunk is whole (all its goods, one moment, each goods'
current price its newest price), that the killed tick stopped short, and that
the next tick reprices everything. Twice: once the pool process that runs the
task (the worker replaces it), once the whole worker (a new one is started).
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

from shop.catalog.models import Goods, Price, Sale, Tick
from shop.catalog.price_store import DRAW_AND_WRITE_SQL
from shop.catalog.services.ticks import TICK_CHUNK_GOODS
from shop.core.schedules import schedules_ensure
from shop.tests.factories import SaleFactory
from shop.tests.live import CELERY, RedisProcess, celery, process, service_env, wait_until
from shop.tests.live import test_database_url as database_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GOODS = 20_000

# The backends of this database running a statement (a tick writes its chunks on connections
# of its own, next to the one that holds the tick lock; other databases have ticks of their own).
ACTIVE = """
    SELECT pid, xact_start, query FROM pg_stat_activity
    WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
"""


@dataclass
class Caught:
    pid: int
    xact_start: Any
    query: str


def writing_prices(query: str) -> bool:
    """The statement that draws and writes a chunk's prices (pg_stat_activity truncates long
    statements: its beginning is what is sure to be there)."""
    return query.lstrip().startswith(DRAW_AND_WRITE_SQL.lstrip()[:40])


def catch_a_tick_writing(db: psycopg.Connection[Any], timeout: float = 60) -> Caught:
    """Poll until a tick's transaction is writing a chunk's prices (uncommitted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid, xact_start, query in db.execute(ACTIVE).fetchall():
            if writing_prices(query):
                return Caught(pid=pid, xact_start=xact_start, query=query)
        time.sleep(0.002)
    raise TimeoutError("no tick was caught writing its prices")


def backend_gone(db: psycopg.Connection[Any], pid: int) -> bool:
    return db.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() == (0,)


def pool_children(worker_pid: int) -> list[int]:
    children = Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split()
    return [int(pid) for pid in children]


CHUNK = TICK_CHUNK_GOODS

# Goods whose current price is not their newest price.
STALE_CURRENT = """
    SELECT count(*) FROM catalog_goods g
    WHERE g.current_price_id IS DISTINCT FROM (
        SELECT p.id FROM catalog_price p WHERE p.goods_id = g.id ORDER BY p.created_at DESC, p.id DESC LIMIT 1
    )
"""


def chunks_are_whole(db: psycopg.Connection[Any]) -> tuple[int, int]:
    """Every committed chunk has all its goods at one moment, each tick counts whole chunks,
    and every goods' current price is its newest; read in one snapshot while ticks go on.

    Returns (committed ticks, whole ones)."""
    db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    try:
        counts = [n for (n,) in db.execute("SELECT goods_count FROM catalog_tick").fetchall()]
        groups = [
            n
            for (n,) in db.execute(
                "SELECT count(*) FROM catalog_price WHERE source = 'tick' GROUP BY created_at"
            ).fetchall()
        ]
        stale = db.execute(STALE_CURRENT).fetchone()
    finally:
        db.execute("COMMIT")
    assert all(n % CHUNK == 0 and n <= GOODS for n in counts), counts
    assert all(n == CHUNK for n in groups), sorted(set(groups))
    assert len(groups) * CHUNK == sum(counts)
    assert stale == (0,)
    return len(counts), counts.count(GOODS)


def kill_mid_tick(db: psycopg.Connection[Any], kill: Callable[[], None]) -> bool:
    """Catch a tick writing a chunk and kill; True when the kill stopped the tick short.

    (The last chunk may commit in the instant between seeing it and the kill
    landing; then the tick was whole, and the caller tries again.)
    """
    caught = catch_a_tick_writing(db)
    kill()
    wait_until(lambda: backend_gone(db, caught.pid), timeout=60)
    killed = Tick.objects.filter(started_at__lte=caught.xact_start).order_by("-slot").first()
    assert killed is not None
    return killed.goods_count < GOODS


def next_tick_reprices_everything(after: int) -> None:
    """A tick of a later slot than ``after`` is whole: every goods got a price from it."""
    wait_until(lambda: Tick.objects.filter(slot__gt=after, goods_count=GOODS).exists(), timeout=60)
    tick = Tick.objects.filter(slot__gt=after, goods_count=GOODS).order_by("slot").first()
    assert tick is not None
    repriced = Price.objects.filter(source=Price.Source.TICK, created_at__gte=tick.started_at)
    assert repriced.values("goods_id").distinct().count() == GOODS


def test_a_worker_killed_mid_tick_leaves_whole_chunks(usd: Any, tmp_path: Path, redis: RedisProcess) -> None:
    # given: a running sale of 20,000 goods (four chunks), beat and one worker with one pool process
    assert GOODS % CHUNK == 0 and GOODS // CHUNK > 1
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

        # when: the pool process running a tick is killed while the tick writes a chunk
        def kill_pool_process() -> None:
            (child,) = pool_children(workers[-1].pid)
            os.kill(child, signal.SIGKILL)

        for _ in range(5):
            kills += 1
            if kill_mid_tick(db, kill_pool_process):
                mid_tick += 1
                break
        # then: the tick stopped short, and what it committed is whole chunks
        chunks_are_whole(db)
        # and the worker replaced its pool process: the next tick reprices everything
        next_tick_reprices_everything(after=Tick.objects.values_list("slot", flat=True).first() or 0)

        # when: the whole worker is killed while a tick writes a chunk
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
        # then: the same; the tick's advisory lock died with its connections
        chunks_are_whole(db)
        # and a new worker ticks again, everything
        last = Tick.objects.values_list("slot", flat=True).first() or 0
        stack.enter_context(process(worker_args, env, tmp_path / "worker-last.log"))
        next_tick_reprices_everything(after=last)
        ticks, whole = chunks_are_whole(db)
    assert mid_tick == 2
    assert ticks > whole >= 2
    print(f"worker kills: {kills}, {mid_tick} mid-tick; {ticks} ticks, {whole} whole, every chunk whole")
