"""The price tick (SPEC §4): every running sale's active goods get one new price."""

import logging
import random
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from shop.catalog.models import Price, Tick
from shop.catalog.selectors import goods_active_ids_of_sale, sale_running_list
from shop.catalog.services.prices import prices_record
from shop.core.db import atomic_try_lock
from shop.core.metrics import TICK_DURATION, TICK_GOODS, TICK_LAST_SUCCESS, TICK_SLOTS_SKIPPED
from shop.domain.pricing import RandInt, draw_prices

logger = logging.getLogger(__name__)

TICK_LOCK = 0x7469636B  # "tick": the advisory lock that keeps ticks from overlapping


@dataclass(frozen=True)
class TickResult:
    slot: int
    status: str  # "done", "busy" (previous tick still running) or "duplicate" (slot ticked already)
    goods_count: int = 0
    duration_ms: int = 0


def tick_slot(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // settings.PRICE_TICK_SECONDS)


def tick_run(*, slot: int | None = None, randint: RandInt = random.randint) -> TickResult:
    """Run the tick of ``slot`` (default: now's) unless it ran or another tick is running.

    One transaction: the slot row, every new price and every current price
    commit together or not at all; the feed batch goes out after commit. A
    missed slot is never replayed: callers only ever ask for the current one.
    """
    slot = tick_slot() if slot is None else slot
    if Tick.objects.filter(slot=slot).exists():  # the common no-op: beat asks every second
        return TickResult(slot=slot, status="duplicate")
    started = time.monotonic()
    with atomic_try_lock(TICK_LOCK) as got_lock:
        if not got_lock:
            logger.info("tick %s skipped: a tick is still running", slot)
            return TickResult(slot=slot, status="busy")
        try:
            with transaction.atomic():
                tick = Tick.objects.create(slot=slot, started_at=timezone.now())
        except IntegrityError:
            return TickResult(slot=slot, status="duplicate")
        previous = Tick.objects.filter(slot__lt=slot).values_list("slot", flat=True).first()  # newest first
        amounts: dict[int, Decimal] = {}
        sale_ids: dict[int, int] = {}
        for sale in sale_running_list():
            goods_ids = goods_active_ids_of_sale(sale_id=sale.id)
            amounts.update(
                zip(
                    goods_ids,
                    draw_prices(len(goods_ids), sale.min_price, sale.max_price, randint),
                    strict=True,
                )
            )
            sale_ids.update(dict.fromkeys(goods_ids, sale.id))
        prices_record(amounts=amounts, source=Price.Source.TICK, sale_ids=sale_ids)
        tick.goods_count = len(amounts)
        tick.duration_ms = int((time.monotonic() - started) * 1000)
        tick.save(update_fields=("goods_count", "duration_ms"))
    # Committed: the metrics count it (the slots between the previous tick and this one got none).
    TICK_DURATION.observe(time.monotonic() - started)
    TICK_GOODS.observe(tick.goods_count)
    TICK_LAST_SUCCESS.set(time.time())
    if previous is not None and slot - previous > 1:
        TICK_SLOTS_SKIPPED.inc(slot - previous - 1)
    logger.info("tick %s: %d goods repriced in %d ms", slot, tick.goods_count, tick.duration_ms)
    return TickResult(slot=slot, status="done", goods_count=tick.goods_count, duration_ms=tick.duration_ms)
