"""The ASGI lifespan: which background loops a web process runs, started and cancelled with it."""

import asyncio
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from shop.catalog.ticker import run_ticker
from shop.ops import lifespan as lifespan_module
from shop.ops.lifespan import background_loops, lifespan
from shop.orders.sweeper import run_sweeper as run_orders_sweeper
from shop.pricewatch.sweeper import run_sweeper as run_standing_sweeper
from shop.webhooks.sweeper import run_sweeper


@pytest.mark.parametrize(
    ("ticker", "delivery", "loops"),
    [
        (
            "inprocess",
            "thread",
            [run_ticker, run_orders_sweeper, run_standing_sweeper, run_sweeper],
        ),  # embedded mode
        ("celery", "celery", []),  # stack mode: beat, the worker and its sweep do both
        ("celery", "thread", [run_sweeper]),
    ],
)
def test_the_deployment_decides_the_background_loops(
    settings: Settings, ticker: str, delivery: str, loops: list[Any]
) -> None:
    settings.PRICE_TICKER, settings.WEBHOOK_DELIVERY = ticker, delivery
    assert background_loops() == loops


def test_loops_start_with_the_server_and_stop_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    started, cancelled = asyncio.Event(), []

    async def loop() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    monkeypatch.setattr(lifespan_module, "background_loops", lambda: [loop])

    async def run() -> list[str]:
        inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        sent: list[str] = []

        async def send(message: dict[str, str]) -> None:
            sent.append(message["type"])

        server = asyncio.create_task(lifespan({"type": "lifespan"}, inbox.get, send))
        await inbox.put({"type": "lifespan.startup"})
        await asyncio.wait_for(started.wait(), 5)
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(server, 5)
        return sent

    assert asyncio.run(run()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert cancelled == [True]
