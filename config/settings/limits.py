"""Abuse limits: account endpoints, orders and the live feed (shop.core.throttling, shop.realtime.limits)."""

from config.settings.base import env

# Account endpoints, per client address and per e-mail address: "N/period" (s, m, h, d; "10/15m"
# is 10 per 15 minutes); empty turns a limit off. Counted atomically in the cache (Redis in stack
# mode), answered 429 + Retry-After. Every password check (the JWT, admin and browsable API logins,
# password change, account deletion) counts against the LOGIN ones: all logins per client address, failed ones per
# (e-mail, client address), and failed ones per e-mail from all addresses, a much higher cap.
THROTTLE_LOGIN_PER_IP = env.str("THROTTLE_LOGIN_PER_IP", default="30/m")
THROTTLE_LOGIN_PER_IP_AND_EMAIL = env.str("THROTTLE_LOGIN_PER_IP_AND_EMAIL", default="10/15m")
THROTTLE_LOGIN_PER_EMAIL = env.str("THROTTLE_LOGIN_PER_EMAIL", default="100/h")
# Past the per-e-mail cap, a correct password from an address (an IPv6 one by its /64) that has
# logged in to that account within this many seconds still logs in: strangers cannot lock the
# owner out. Every password check counts (shop.accounts.backends), whatever the URL.
LOGIN_KNOWN_ADDRESS_SECONDS = env.int("LOGIN_KNOWN_ADDRESS_SECONDS", default=30 * 86400)
THROTTLE_REGISTER_PER_IP = env.str("THROTTLE_REGISTER_PER_IP", default="10/h")
THROTTLE_REGISTER_PER_EMAIL = env.str("THROTTLE_REGISTER_PER_EMAIL", default="5/h")
THROTTLE_PASSWORD_RESET_PER_IP = env.str("THROTTLE_PASSWORD_RESET_PER_IP", default="10/h")
THROTTLE_PASSWORD_RESET_PER_EMAIL = env.str("THROTTLE_PASSWORD_RESET_PER_EMAIL", default="5/h")
THROTTLE_ACTIVATION_RESEND_PER_IP = env.str("THROTTLE_ACTIVATION_RESEND_PER_IP", default="10/h")
THROTTLE_ACTIVATION_RESEND_PER_EMAIL = env.str("THROTTLE_ACTIVATION_RESEND_PER_EMAIL", default="5/h")
# Orders (direct and checkout together) per shopper.
THROTTLE_ORDERS_PER_USER = env.str("THROTTLE_ORDERS_PER_USER", default="30/m")
# The live feed (shop.realtime.limits): per message, per subscription, per connection, per address.
FEED_MAX_MESSAGE_BYTES = env.int("FEED_MAX_MESSAGE_BYTES", default=16 * 1024)
FEED_MAX_SUBSCRIPTION_GOODS = env.int("FEED_MAX_SUBSCRIPTION_GOODS", default=1000)
FEED_MAX_MESSAGES_PER_SECOND = env.int("FEED_MAX_MESSAGES_PER_SECOND", default=10)
# New feed connections per client address ("N/period", counted across processes); empty: off.
FEED_CONNECTS_PER_IP = env.str("FEED_CONNECTS_PER_IP", default="20/s")
FEED_MAX_CONNECTIONS_PER_IP = env.int(
    "FEED_MAX_CONNECTIONS_PER_IP", default=100
)  # per server process; 0: off
# A client that cannot keep up: at most this many messages wait for it, and a socket it
# does not read for this long is dropped.
FEED_SEND_QUEUE = env.int("FEED_SEND_QUEUE", default=64)
# … and the bytes that may wait for it (a whole-catalog snapshot is about 60 bytes a goods).
FEED_SEND_QUEUE_BYTES = env.int("FEED_SEND_QUEUE_BYTES", default=4 * 1024 * 1024)
# Snapshots (on connect, on subscribe) per connection: at most one per this many seconds; a
# subscribe that comes sooner is answered when the interval is over, the latest one only.
FEED_SNAPSHOT_INTERVAL_SECONDS = env.float("FEED_SNAPSHOT_INTERVAL_SECONDS", default=1.0)
# Threads for the feed's database and cache calls (snapshots, currencies, limits), apart from
# the thread that serves the rest of the process's async-to-sync calls.
FEED_THREADS = env.int("FEED_THREADS", default=4)
FEED_SEND_TIMEOUT_SECONDS = env.float("FEED_SEND_TIMEOUT_SECONDS", default=10.0)

# Searches and orderings of the API's lists (shop.core.search): past these, 400 before any query.
SEARCH_MAX_TERMS = env.int("SEARCH_MAX_TERMS", default=10)
SEARCH_MAX_LENGTH = env.int("SEARCH_MAX_LENGTH", default=200)
ORDERING_MAX_FIELDS = env.int("ORDERING_MAX_FIELDS", default=5)
# Heavy anonymous reads (candles of a goods' history) per client address: N/period, empty turns it off.
THROTTLE_HEAVY_READS_PER_IP = env.str("THROTTLE_HEAVY_READS_PER_IP", default="120/m")
