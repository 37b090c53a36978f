"""Standing orders past their expires_at close: beat's task in stack mode, a loop of the web
server in embedded mode (shop.ops.lifespan), as the orders' sweep."""

from shop.core.loops import run_every
from shop.pricewatch.services.watches import standing_orders_expire

SWEEP_SECONDS = 5


async def run_sweeper() -> None:
    await run_every(SWEEP_SECONDS, standing_orders_expire, what="standing orders: expiry")
