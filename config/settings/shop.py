"""The shop's own rules: currency, ticks, order markup, rates, the first staff user."""

from decimal import Decimal

from config.settings.base import REDIS_URL, env

BASE_CURRENCY = env.str("BASE_CURRENCY", default="USD")
# Who ticks: "inprocess" (a task of the web server, embedded mode) or "celery" (beat + worker).
PRICE_TICKER = env.str("PRICE_TICKER", default="celery" if REDIS_URL else "inprocess")
PRICE_TICK_SECONDS = env.int("PRICE_TICK_SECONDS", default=5)
# Database connections a tick writes its chunks on at once (PostgreSQL), each on a core of its own.
TICK_WRITERS = env.int("TICK_WRITERS", default=2)
# How long one statement of a tick's chunk, or of the price history's upkeep (partitions, roll-up),
# may run (PostgreSQL), in place of the web requests' DB_STATEMENT_TIMEOUT_SECONDS; 0: no limit.
TICK_STATEMENT_TIMEOUT_SECONDS = env.float("TICK_STATEMENT_TIMEOUT_SECONDS", default=60.0)
FEED_HEARTBEAT_SECONDS = env.float("FEED_HEARTBEAT_SECONDS", default=15.0)
GENERATE_PRICES_INTERVAL_SECONDS = env.int("GENERATE_PRICES_INTERVAL_SECONDS", default=5)
ORDER_MARKUP_PERCENT = Decimal(env.str("ORDER_MARKUP_PERCENT", default="30"))
ORDER_FIXED_FEE = Decimal(env.str("ORDER_FIXED_FEE", default="10.10"))
# SPEC §13: how long a shopper may cancel a placed order; after how long an unpaid one is
# cancelled (0: never); how long adding to the cart holds the units (0: no holds); from how
# few units left the storefront says "Only N left".
ORDER_CANCEL_SECONDS = env.int("ORDER_CANCEL_SECONDS", default=900)
ORDER_PAY_SECONDS = env.int("ORDER_PAY_SECONDS", default=0)
CART_RESERVATION_SECONDS = env.int("CART_RESERVATION_SECONDS", default=0)
LOW_STOCK_AT = env.int("LOW_STOCK_AT", default=5)
# SPEC §15: open price alerts and standing orders a shopper may have at once; how far ahead a
# standing order may expire; who matches each committed batch against them: "celery" (a task for
# the worker, the stack default) or "thread" (a background thread of the process that wrote it).
ALERTS_PER_USER = env.int("ALERTS_PER_USER", default=50)
STANDING_ORDERS_PER_USER = env.int("STANDING_ORDERS_PER_USER", default=20)
STANDING_ORDER_MAX_DAYS = 7
PRICE_MATCHING = env.str("PRICE_MATCHING", default="") or ("celery" if REDIS_URL else "thread")
RATES_PROVIDER = env.str("RATES_PROVIDER", default="manual")
RATES_REFRESH_SECONDS = env.int("RATES_REFRESH_SECONDS", default=3600)
ECB_RATES_URL = env.str(
    "ECB_RATES_URL", default="https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
)
PRICE_HISTORY_RAW_DAYS = env.int("PRICE_HISTORY_RAW_DAYS", default=0)  # 0: keep everything
ADMIN_EMAIL = env.str("ADMIN_EMAIL", default="")
ADMIN_PASSWORD = env.str("ADMIN_PASSWORD", default="")
