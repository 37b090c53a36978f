"""Abuse limits: fixed-window counters in the cache, atomic in Redis.

Each limit is ``N/period`` (``30/m``, ``10/15m``, ``3/h``; ``s``, ``m``, ``h``,
``d``), read from a setting; an empty value or ``0`` turns it off. A hit is
one ``cache.add`` (SET NX, starts the window) and one ``cache.incr`` (INCR):
both atomic in Redis, so concurrent requests across every process of the
deployment are counted exactly (with the shop's Redis cache both go in one
MULTI, one round trip), unlike DRF's own throttles, which read,
append and write back a list. Windows are aligned to the clock, so the
answer can say when the current one ends (``Retry-After``).

When the cache is unreachable the limits let requests through (and log it):
Redis going down must not lock every shopper out (SPEC §2 keeps orders going
without Redis).
"""

import contextlib
import hashlib
import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis.exceptions import RedisError

from shop.core.errors import RateLimited
from shop.core.metrics import THROTTLED

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
}


@dataclass(frozen=True)
class Rate:
    limit: int
    window: int  # seconds

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


def client_ip(request: HttpRequest) -> str:
    """The caller's address; behind a proxy the ASGI server has already put the
    X-Forwarded-For client here, if the proxy is in FORWARDED_ALLOW_IPS."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _key(scope: str, ident: str, window_start: int) -> str:
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]  # no addresses in cache keys
    return f"tickshop:throttle:{scope}:{digest}:{window_start}"


def _window(rate: Rate, now: float) -> int:
    return int(now // rate.window) * rate.window


def _count(key: str, *, timeout: int) -> int | None:
    """The window's counter after this hit (None if it could not be counted)."""
    count = getattr(cache, "count", None)
    if count is not None:  # shop.core.redis_cache.RedisCache: one atomic round trip
        return int(count(key, timeout=timeout))
    for _ in range(2):  # the key may expire between add and incr at a window's end
        cache.add(key, 0, timeout=timeout)
        try:
            return int(cache.incr(key))
        except ValueError:
            continue
    return None


def throttle_hit(*, scope: str, ident: str, setting: str, message: str) -> None:
    """Count one hit of ``ident`` against the limit named by ``setting``;
    RateLimited (429 + Retry-After) once it is over."""
    rate = Rate.parse(getattr(settings, setting, ""))
    if rate is None or not ident:
        return
    now = time.time()
    start = _window(rate, now)
    key = _key(scope, ident, start)
    try:
        count = _count(key, timeout=rate.window + 1)
    except RedisError:
        logger.warning("throttle %s not applied: the cache does not answer", scope)
        return
    if count is not None and count > rate.limit:
        logger.info("throttle %s: over %d per %d s", scope, rate.limit, rate.window)
        THROTTLED.labels(scope).inc()
        raise RateLimited(message, retry_after=start + rate.window - now)


def throttle_refund(*, scope: str, ident: str, setting: str) -> None:
    """Take one hit back (a login that succeeded does not count as a failed attempt)."""
    rate = Rate.parse(getattr(settings, setting, ""))
    if rate is None or not ident:
        return
    # ValueError: the window ended meanwhile; RedisError: the cache is down. Nothing to take back.
    with contextlib.suppress(ValueError, RedisError):
        cache.decr(_key(scope, ident, _window(rate, time.time())))
