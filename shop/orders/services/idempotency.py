"""At most one order per (user, Idempotency-Key) for 24 hours (SPEC §4)."""

import hashlib
import json
import re
from datetime import timedelta

from shop.accounts.models import User
from shop.core.errors import Unprocessable, ValidationError
from shop.orders.errors import OrderErrorCode
from shop.orders.models import IdempotencyKey, Order
from shop.orders.store import order_store

IDEMPOTENCY_KEY_REUSED = "This Idempotency-Key was used with a different request."
IDEMPOTENCY_WINDOW = timedelta(hours=24)
IDEMPOTENCY_KEY_INVALID = "An Idempotency-Key is 1 to 255 printable ASCII characters."
_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")


def fingerprint(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _claim_key(*, user: User, key: str, print_: str) -> Order | None:
    """Record (user, key), or return the order an earlier request with it placed.

    The INSERT runs first: a concurrent request with the same key blocks on the
    unique index until the first one commits (then it finds the key taken and
    reads that order) or rolls back (then it goes ahead itself).
    """
    if order_store().key_claim(user=user, key=key, fingerprint=print_, window=IDEMPOTENCY_WINDOW):
        return None
    earlier = (
        IdempotencyKey.objects.select_related("order__currency")
        .prefetch_related("order__items")
        .get(user=user, key=key)
    )
    if earlier.fingerprint != print_:
        raise Unprocessable(IDEMPOTENCY_KEY_REUSED, code=OrderErrorCode.IDEMPOTENCY_KEY_REUSED)
    assert earlier.order is not None  # noqa: S101 - set in the same transaction as the key
    return earlier.order


def idempotency_key_clean(key: str | None) -> str | None:
    """The key as sent (None without one); 400 unless 1 to 255 printable ASCII characters."""
    if key and not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationError(IDEMPOTENCY_KEY_INVALID, code=OrderErrorCode.INVALID_IDEMPOTENCY_KEY)
    return key or None


def idempotency_claim(*, user: User, key: str | None, request: object) -> Order | None:
    """Claim ``key`` for the order about to be placed, inside the caller's transaction; or
    return the order an earlier ``request`` with it placed (422 when that request differed).
    Without a key there is nothing to claim."""
    if not key:
        return None
    return _claim_key(user=user, key=key, print_=fingerprint(request))


def idempotency_bind(*, user: User, key: str | None, order: Order) -> None:
    """Point a claimed ``key`` at the order placed with it, in the same transaction."""
    if key:
        IdempotencyKey.objects.filter(user=user, key=key).update(order=order)
