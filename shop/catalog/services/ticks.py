"""The price tick (SPEC §4): every running sale's active goods get one new price."""

import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from shop.catalog.models import Price, Tick
from shop.catalog.price_store import price_store
from shop.catalog.selectors import goods_active_of_sales, sale_running_list
from shop.catalog.services.prices import prices_announce, prices_draw, sale_rules
from shop.core.db_store import db_now, session_try_lock, statement_timeout_set
from shop.core.loops import in_one_event_loop
from shop.core.metrics import TICK_DURATION, TICK_GOODS, TICK_LAST_SUCCESS, TICK_SLOTS_SKIPPED
from shop.domain.price_batch import PriceBatch
from shop.domain.price_draw import RandInt

logger = logging.getLogger(__name__)

TICK_LOCK = 0x7469636B  # "tick": the advisory lock that keeps ticks from overlapping

# Goods repriced per transaction. An order on them waits for one chunk at most
# (a few tens of ms), and bigger chunks saved little (bench/tick.py, bench/queueing.py).
TICK_CHUNK_GOODS = 5000


@dataclass(frozen=True)
class TickResult:
    slot: int
    status: str  # "done", "busy" (previous tick still running) or "duplicate" (slot ticked already)
    goods_count: int = 0
    duration_ms: int = 0


def tick_slot(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // settings.PRICE_TICK_SECONDS)


def tick_run(
    *, slot: int | None = None, chunk_size: int | None = None, randint: RandInt = random.randint
) -> TickResult:
    """Run the tick of ``slot`` (default: now's) unless it ran or another tick is running.

    The slot is claimed first (its Tick row, committed on its own), then the
    goods are repriced in chunks of ``chunk_size`` (default TICK_CHUNK_GOODS),
    in goods id order, each chunk one short transaction: its goods locked,
    then the clock read, then every price of the chunk drawn and made current
    by one statement, and the slot's ``goods_count`` counted up. So an order
    waits for at most one chunk's locks, a chunk is all there or not at all,
    and its feed batch goes out after its commit. On PostgreSQL, outside a
    transaction, TICK_WRITERS connections write chunks at once. A tick that dies half-way
    leaves whole chunks; the next slot reprices everything. The advisory lock
    is held for the whole slot, so ticks never overlap. A missed slot is never
    replayed: callers only ever ask for the current one. ``randint`` draws in
    embedded mode (SQLite); PostgreSQL draws in the database.
    """
    slot = tick_slot() if slot is None else slot
    if Tick.objects.filter(slot=slot).exists():  # the common no-op: beat asks every second
        return TickResult(slot=slot, status="duplicate")
    started = time.monotonic()
    with session_try_lock(TICK_LOCK) as got_lock:
        if not got_lock:
            logger.info("tick %s skipped: a tick is still running", slot)
            return TickResult(slot=slot, status="busy")
        try:
            with transaction.atomic():
                tick = Tick.objects.create(slot=slot, started_at=timezone.now())
        except IntegrityError:
            return TickResult(slot=slot, status="duplicate")
        previous = Tick.objects.filter(slot__lt=slot).values_list("slot", flat=True).first()  # newest first
        # Each sale as it is now: a strategy changed since the last tick applies from this one.
        rules = sale_rules(sale_running_list(), at=db_now())
        goods_sales = goods_active_of_sales(sale_ids=list(rules.bounds))
        size = chunk_size or TICK_CHUNK_GOODS
        chunks = [goods_sales[first : first + size] for first in range(0, len(goods_sales), size)]

        def write(chunk: list[tuple[int, int]]) -> PriceBatch:
            with transaction.atomic():
                statement_timeout_set(seconds=settings.TICK_STATEMENT_TIMEOUT_SECONDS)
                batch = prices_draw(
                    goods_sales=chunk,
                    bounds=rules.bounds,
                    strategies=rules.strategies,
                    demand=rules.demand_of(chunk),
                    source=Price.Source.TICK,
                    randint=randint,
                )
                # Counted with the chunk: a tick that dies half-way says how far it got.
                Tick.objects.filter(slot=slot).update(goods_count=F("goods_count") + len(batch))
            return batch

        def write_and_announce(chunk: list[tuple[int, int]]) -> int:
            batch = write(chunk)
            transaction.on_commit(
                lambda: prices_announce(batch)
            )  # at once, unless a caller's transaction is open
            return len(batch)

        writers = price_store().writers(min(settings.TICK_WRITERS, len(chunks)))
        if writers > 1:
            tick.goods_count = in_one_event_loop(lambda: _write_in_parallel(chunks, write, writers))
        elif len(chunks) > 1:
            tick.goods_count = in_one_event_loop(lambda: sum(map(write_and_announce, chunks)))
        else:  # one batch: the loop would cost what it saves
            tick.goods_count = sum(map(write_and_announce, chunks))
        tick.duration_ms = int((time.monotonic() - started) * 1000)
        tick.save(update_fields=("duration_ms",))
    # Done: the metrics count it (the slots between the previous tick and this one got none).
    TICK_DURATION.observe(time.monotonic() - started)
    TICK_GOODS.observe(tick.goods_count)
    TICK_LAST_SUCCESS.set(time.time())
    if previous is not None and slot - previous > 1:
        TICK_SLOTS_SKIPPED.inc(slot - previous - 1)
    logger.info("tick %s: %d goods repriced in %d ms", slot, tick.goods_count, tick.duration_ms)
    return TickResult(slot=slot, status="done", goods_count=tick.goods_count, duration_ms=tick.duration_ms)


def _write_in_parallel(
    chunks: list[list[tuple[int, int]]], write: Callable[[list[tuple[int, int]]], PriceBatch], writers: int
) -> int:
    """Write the chunks on ``writers`` threads, each with a database connection of its own
    (PostgreSQL then draws and writes on as many cores), and announce each chunk's batch from
    this thread as soon as it committed. After a chunk fails no new one starts; the chunks
    already written stay (each is whole), and the failure is raised. Returns the number of
    goods repriced."""

    def run(chunk: list[tuple[int, int]]) -> PriceBatch:
        try:
            return write(chunk)
        finally:
            price_store().thread_done()

    repriced, failure = 0, None
    with ThreadPoolExecutor(writers, thread_name_prefix="tick-writer") as pool:
        futures = [pool.submit(run, chunk) for chunk in chunks]
        for future in as_completed(futures):
            if future.cancelled():
                continue
            try:
                batch = future.result()
            except Exception as exc:  # raised again below, once the chunks being written are done
                failure = failure or exc
                for pending in futures:
                    pending.cancel()
                continue
            repriced += len(batch)
            prices_announce(batch)
    if failure is not None:
        raise failure
    return repriced
