"""The shop's one rate limiter: counters in the cache, atomic in Redis.

Every limit of the shop goes through ``limit_hit``: the account endpoints and
orders (``throttle_hit``, a limit read from a setting), the feed's new
connections per address, and on-demand price generation (one per sale and
interval). A limit is ``N/period`` (``30/m``, ``10/15m``, ``3/h``; ``s``,
``m``, ``h``, ``d``); an empty value or ``0`` turns it off.

The ``N/period`` limits count in windows aligned to the clock; a cooldown
(``Rate(..., clock=False)``, price generation's interval) opens its window with
the first hit. A hit is one atomic round trip to Redis
(``shop.core.redis_cache.RedisCache.count``: SET NX EX, INCR, PTTL in one
MULTI), so concurrent requests across every process of the deployment are
counted exactly, unlike DRF's own throttles, which read, append and write back
a list; and the answer knows when the window ends (``Retry-After``).

Failure policy, one for every limit: **when Redis does not answer, count in
this process.** The hit is counted in a process-local counter instead (logged
as a warning), so the request is answered as if Redis were there, only with
the limit held per process rather than per deployment (at most the number of
web processes times the limit). Neither of the alternatives suits a shop:
failing open would lift every limit, login guessing included, for as long as
Redis is down (and an attacker may be the reason it is); failing closed would
turn a cache outage into refused logins and orders (SPEC §2 keeps orders going
without Redis). Embedded mode, whose cache is this process's anyway, counts
here too.
"""

import hashlib
import ipaddress
import logging
import re
import threading
import time
from dataclasses import dataclass

from cachetools import TLRUCache
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from redis.exceptions import RedisError

from shop.core.errors import RateLimited
from shop.core.metrics import THROTTLED
from shop.core.redis_cache import RedisCache

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*$")

# path -> method of every throttled endpoint (the OpenAPI schema documents their 429).
THROTTLED_PATHS = {
    "/auth/jwt/create/": "post",
    "/auth/users/": "post",
    "/auth/users/reset_password/": "post",
    "/auth/users/resend_activation/": "post",
    "/api/orders/": "post",
    "/api/cart/checkout/": "post",
    "/api/goods/{id}/candles/": "get",
}


@dataclass(frozen=True)
class Rate:
    limit: int
    window: int  # seconds
    # True: windows follow the clock (every key's end together, as the settings' limits count);
    # False: a key's window opens with its first hit (a cooldown).
    clock: bool = True

    @classmethod
    def parse(cls, text: str) -> "Rate | None":
        """``"10/15m"`` -> Rate(10, 900); ``""`` or ``"0/m"`` -> None (no limit)."""
        if not text.strip():
            return None
        match = _RATE.match(text.lower())
        if match is None:
            raise ValueError(f"not a rate: {text!r} (use N/period, e.g. 30/m, 10/15m, 3/h)")
        limit, count, unit = int(match[1]), int(match[2] or 1), match[3]
        return cls(limit=limit, window=count * _PERIODS[unit]) if limit > 0 and count > 0 else None


def address_key(address: str) -> str:
    """The part of a client address that limits count by: an IPv4 address whole, an IPv6
    one by its /64 (one subscriber's network: its owner holds every address in it, so
    counting each alone would multiply every per-address limit by 2⁶⁴)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_ip(request: HttpRequest) -> str:
    """The caller's address as limits count it (``address_key``); behind a proxy the ASGI
    server has already put the X-Forwarded-For client here, if the proxy is in
    FORWARDED_ALLOW_IPS."""
    return address_key(str(request.META.get("REMOTE_ADDR") or ""))


def _window_end(_key: str, entry: tuple[int, float], _now: float) -> float:
    return entry[1]


class ProcessCounters:
    """Windows counted in this process: embedded mode's, and everyone's while Redis is down.
    A cachetools ``TLRUCache``: a window is gone when it ends, and past ``MAX_KEYS`` open ones
    (a flood of addresses) the least recently hit goes first."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._lock = threading.Lock()  # sync views run on a thread pool; cachetools has no lock
        # key -> (hits, monotonic end)
        self._windows: TLRUCache[str, tuple[int, float]] = TLRUCache(
            maxsize=self.MAX_KEYS, ttu=_window_end, timer=time.monotonic
        )

    def count(self, key: str, *, window: int) -> tuple[int, float]:
        with self._lock:
            now = self._windows.timer()
            hits, ends = self._windows.get(key, (0, now + window))
            self._windows[key] = (hits + 1, ends)
        return hits + 1, ends - now

    def refund(self, key: str) -> None:
        with self._lock:
            if key in self._windows:
                hits, ends = self._windows[key]
                self._windows[key] = (max(0, hits - 1), ends)

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


process_counters = ProcessCounters()


def _window(scope: str, ident: str, rate: Rate, now: float) -> tuple[str, float | None]:
    """The key of ``ident``'s current window, and when it ends (None: at its first hit + window)."""
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]  # no addresses in cache keys
    if not rate.clock:
        return f"tickshop:throttle:{scope}:{digest}", None
    start = int(now // rate.window) * rate.window
    return f"tickshop:throttle:{scope}:{digest}:{start}", start + rate.window


def _shared_counters() -> RedisCache | None:
    """The counters every process shares: stack mode's Redis. None in embedded mode, whose
    local-memory cache is this process's: there ``process_counters`` are the deployment's."""
    backend = caches["default"]
    return backend if isinstance(backend, RedisCache) else None


def _count(scope: str, key: str, *, window: int) -> tuple[int, float]:
    """(hits in the window so far, this one included; seconds until the key expires)."""
    shared = _shared_counters()
    if shared is not None:
        try:
            return shared.count(key, timeout=window)
        except RedisError:
            logger.warning("limit %s counted in this process only: the cache does not answer", scope)
    return process_counters.count(key, window=window)


def limit_hit(*, scope: str, ident: str, rate: Rate | None, message: str) -> None:
    """Count one hit of ``ident`` against ``rate`` (None: no limit); RateLimited
    (429, ``rate_limited``, Retry-After) once it is over. See the module for
    what happens when Redis is down."""
    if rate is None or not ident:
        return
    now = time.time()
    key, ends = _window(scope, ident, rate, now)
    # A clock window's key names its window, so it may outlive it: it lives a window from its first hit.
    hits, expires_in = _count(scope, key, window=rate.window + 1 if ends is not None else rate.window)
    if hits > rate.limit:
        logger.info("limit %s: over %d per %d s", scope, rate.limit, rate.window)
        THROTTLED.labels(scope).inc()
        raise RateLimited(message, retry_after=ends - now if ends is not None else expires_in)


def throttle_hit(*, scope: str, ident: str, setting: str, message: str) -> None:
    """``limit_hit`` with the limit named by ``setting`` (``THROTTLE_…``, ``FEED_CONNECTS_PER_IP``)."""
    limit_hit(scope=scope, ident=ident, rate=Rate.parse(getattr(settings, setting, "")), message=message)


def throttle_refund(*, scope: str, ident: str, setting: str) -> None:
    """Take one hit back (a login that succeeded does not count as a failed attempt)."""
    rate = Rate.parse(getattr(settings, setting, ""))
    if rate is None or not ident:
        return
    key, _ = _window(scope, ident, rate, time.time())
    shared = _shared_counters()
    if shared is not None:
        try:
            shared.uncount(key)  # a window that ended meanwhile has nothing to take back
            return
        except RedisError:
            pass  # the hit was counted here then
    process_counters.refund(key)
