"""Ticks and generation through real processes: Celery worker and beat, two ASGI servers."""

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from shop.catalog.models import Price, Tick
from shop.core.schedules import schedules_ensure
from shop.tests.factories import GoodsFactory, SaleFactory, UserFactory
from shop.tests.live import asgi_server, celery, service_env, stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_worker_and_two_beats_tick_every_slot_once(usd: Any, tmp_path: Path) -> None:
    # given: a running sale, the beat schedule, one worker and two beat processes (a mistake)
    goods = [GoodsFactory(price="1.00") for _ in range(3)]
    SaleFactory(goods=goods, min_price=Decimal("10.00"), max_price=Decimal("10.05"))
    schedules_ensure()
    env = service_env()
    # when: they run for ten whole ticks (about a minute, once they have started)
    with ExitStack() as stack:
        worker = stack.enter_context(celery("worker", env, tmp_path / "worker.log"))
        stack.enter_context(celery("beat", env, tmp_path / "beat1.log"))
        stack.enter_context(celery("beat", env, tmp_path / "beat2.log"))
        try:
            wait_until(lambda: Tick.objects.filter(goods_count=len(goods)).count() >= 10, timeout=180)
        except TimeoutError:
            raise AssertionError((tmp_path / "worker.log").read_text()[-3000:]) from None
        # Stopped first, right after a whole tick and seconds before the next slot's: stopping kills
        # the pool process, and a tick it was running would be cut short (whole chunks only).
        stop(worker)
    # then: a tick every slot of 5 s, never two in one slot, within the bounds
    slots = sorted(Tick.objects.values_list("slot", flat=True))
    assert len(slots) >= 10
    assert slots == list(range(slots[0], slots[0] + len(slots))), f"skipped slots: {slots}"
    for g in goods:
        ticks = list(Price.objects.filter(goods=g, source="tick").order_by("created_at"))
        assert len(ticks) == len(slots)
        # one price per tick, each written during its own slot; its timestamp is the database's clock
        # once the goods are locked, which under load may pass into the next slot by a little
        for price, slot in zip(ticks, slots, strict=True):
            assert slot * 5 <= price.created_at.timestamp() < (slot + 1) * 5 + 2, (slot, price.created_at)
        gaps = [(b.created_at - a.created_at).total_seconds() for a, b in pairwise(ticks)]
        # the first tick lands wherever in its slot the processes started; then about
        # every 5 s (beat asks every second, so a tick lands within its slot's first second or so)
        assert all(2.0 <= gap <= 8.0 for gap in gaps[1:]), gaps
        assert all(Decimal("10.00") <= p.amount <= Decimal("10.05") for p in ticks)


def test_concurrent_generate_prices_across_two_servers(usd: Any, tmp_path: Path) -> None:
    # given: a sale and a staff token; two server processes share Redis and the database
    goods = [GoodsFactory(price="1.00") for _ in range(4)]
    sale = SaleFactory(goods=goods)
    token = str(RefreshToken.for_user(UserFactory(is_staff=True)).access_token)
    env = service_env(PRICE_TICKER="off")
    with (
        asgi_server(env, tmp_path / "one.log") as one,
        asgi_server(env, tmp_path / "two.log") as two,
    ):

        def generate(base: str) -> tuple[int, Any, Any]:
            request = urllib.request.Request(  # noqa: S310 - local test server
                f"{base}/api/sales/{sale.id}/generate-prices/",
                method="PUT",
                headers={"Authorization": f"Bearer {token}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    return response.status, response.headers, json.load(response)
            except HTTPError as error:
                return error.code, error.headers, json.load(error)

        # when: 12 requests at once, six to each server
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(generate, [one, two] * 6))
    # then: exactly one generation
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200] + [429] * 11
    for status, headers, body in answers:
        if status == 429:
            assert 1 <= int(headers.get("Retry-After")) <= 5
            assert body["code"] == "rate_limited"
        else:
            assert len(body) == 4
    assert Price.objects.filter(source="on_demand").count() == 4
