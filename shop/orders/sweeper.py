"""The orders' periodic upkeep (SPEC §13): unpaid orders expire, cart holds past their time go.

Beat runs it as two tasks in stack mode (shop.core.schedules); embedded mode runs ``run_sweeper``
as a task of the web server's event loop, like its ticker.
"""

import logging

from shop.core.loops import run_every
from shop.orders.services.holds import holds_expire
from shop.orders.services.lifecycle import orders_expire

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 5  # how late an expiry may come: placements count holds afresh, never late


def sweep() -> None:
    holds_expire()
    orders_expire()


async def run_sweeper() -> None:
    await run_every(SWEEP_SECONDS, sweep, what="orders: sweep")
