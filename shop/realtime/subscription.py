"""Which goods a feed connection follows, and the rules for changing that (SPEC §7).

Pure: no database, no network, no settings. The consumer reads what a rule
needs (the snapshot) and sends what it decides.
"""

import json
from collections.abc import Collection, Container
from dataclasses import dataclass, field
from typing import Any

from shop.core.errors import ShopError
from shop.core.ids import parse_id
from shop.realtime.errors import FeedErrorCode
from shop.realtime.limits import TOO_MANY_GOODS

MALFORMED = "Messages must be JSON objects."
UNKNOWN_ACTION = "Unknown action; use subscribe, unsubscribe or auth."
BAD_GOODS = 'goods must be a list of goods ids or "all".'
UNKNOWN_GOODS = "Unknown goods (or goods without a price)."
BAD_GOODS_QUERY = "goods in the address must be goods ids separated by commas."

SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"
AUTH = "auth"  # SPEC §15: who the connection is; its answer is the consumer's (it needs the database)


class FeedRequestError(ShopError):
    """What the feed answers to a request it refuses: an ``error`` event; the connection stays.

    Only a refusal with a code of its own sends one (the feed's events predate the codes)."""

    code = ""

    def __init__(self, detail: str, *, echo: dict[str, Any] | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.echo = echo or {}

    @property
    def event(self) -> dict[str, Any]:
        coded = {"code": self.code} if self.code else {}
        return {"type": "error", "detail": self.message, **coded, **self.extra, **self.echo}


@dataclass(frozen=True)
class FeedRequest:
    """A client message, checked: subscribe to or unsubscribe from ``goods`` (None: "all"), or
    auth with ``token`` ("" when the message has no string there: a token that names nobody)."""

    action: str
    goods: frozenset[int] | None
    echo: dict[str, Any] = field(default_factory=dict)  # {"id": ...} when the client gave one
    token: str = field(default="", repr=False)  # a credential: kept out of logs

    @property
    def id(self) -> Any:
        return self.echo.get("id")

    @classmethod
    def of_text(cls, text: str | None, *, limit: int) -> "FeedRequest":
        """Parse ``{"action": ..., "goods": [ids] | "all", "id": any}`` (at most ``limit`` goods)
        or ``{"action": "auth", "token": ..., "id": any}``. Raises FeedRequestError."""
        try:
            message = json.loads(text or "")
        except ValueError:
            message = None
        if not isinstance(message, dict):
            raise FeedRequestError(MALFORMED)
        echo = {"id": message["id"]} if "id" in message else {}
        action, goods = message.get("action"), message.get("goods")
        if action == AUTH:
            token = message.get("token")
            return cls(action=AUTH, goods=None, echo=echo, token=token if isinstance(token, str) else "")
        if action not in (SUBSCRIBE, UNSUBSCRIBE):
            raise FeedRequestError(UNKNOWN_ACTION, echo=echo)
        if goods == "all" and action == SUBSCRIBE:
            return cls(action=action, goods=None, echo=echo)
        if not isinstance(goods, list) or not all(type(g) is int and parse_id(g) for g in goods):
            raise FeedRequestError(BAD_GOODS, echo=echo)
        if len(goods) > limit:
            raise FeedRequestError(
                TOO_MANY_GOODS.format(limit=limit), echo=echo, code=FeedErrorCode.TOO_MANY_GOODS
            )
        return cls(action=action, goods=frozenset(goods), echo=echo)


@dataclass(frozen=True)
class _AllBut:
    excluded: frozenset[int]

    def __contains__(self, goods: object) -> bool:
        return goods not in self.excluded


@dataclass(frozen=True)
class Subscription:
    """The goods a connection follows: ``only`` these (None: every goods), less ``excluded``.

    Unsubscribing while following every goods excludes those goods, so it needs
    no list of every goods; goods priced for the first time later are followed.
    """

    only: frozenset[int] | None = None
    excluded: frozenset[int] = frozenset()

    @classmethod
    def of_query(cls, values: list[str], *, limit: int) -> "Subscription":
        """``?goods=1,2,3`` (``values``: the parameter's values): what a connection starts with.

        Unlike ``subscribe`` it takes goods that have no price yet (or no longer
        exist): a page asks for the goods it shows, and a goods' first price
        reaches it when it comes. Raises FeedRequestError.
        """
        if not values:
            return cls()
        ids = [parse_id(part) for part in values[-1].split(",") if part]
        if None in ids:
            raise FeedRequestError(BAD_GOODS_QUERY, code=FeedErrorCode.BAD_GOODS)
        only = frozenset(i for i in ids if i is not None)
        if len(only) > limit:
            raise FeedRequestError(TOO_MANY_GOODS.format(limit=limit), code=FeedErrorCode.TOO_MANY_GOODS)
        return cls(only=only)

    @property
    def goods(self) -> Container[int] | None:
        """What a batch is filtered by; None when every goods is followed (no filter)."""
        if self.only is not None:
            return self.only
        return _AllBut(self.excluded) if self.excluded else None

    def apply(self, request: FeedRequest, *, priced: Collection[int] = ()) -> "Subscription":
        """The subscription after ``request``; ``priced``: which of its goods have a price
        (only goods with a price can be named). Raises FeedRequestError."""
        if request.goods is None:
            return Subscription()
        unknown = sorted(request.goods.difference(priced))
        if unknown:
            raise FeedRequestError(UNKNOWN_GOODS, echo=request.echo, goods=unknown)
        if request.action == SUBSCRIBE:
            return Subscription(only=request.goods)
        if self.only is not None:
            return Subscription(only=self.only - request.goods)
        return Subscription(excluded=self.excluded | request.goods)
