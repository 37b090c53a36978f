"""Shaping feed messages: conversion and JSON, shared by every connection of a process."""

import json
from collections import OrderedDict
from collections.abc import Collection, Iterable
from decimal import Decimal
from typing import Any

from shop.domain.money import Quote, convert, format_amount

dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

# (seq, currency) -> text of a whole batch: every unfiltered connection of a
# currency gets the same text, so a process renders it once, not once per client.
_rendered: "OrderedDict[tuple[int, str], str]" = OrderedDict()
_RENDERED_MAX = 64


def price_entries(prices: Iterable[tuple[int, Decimal, str]], quote: Quote) -> list[dict[str, Any]]:
    """``[(goods, base amount, at)]`` -> ``[{goods, price, at}]`` in the quote's currency."""
    return [
        {
            "goods": goods,
            "price": format_amount(convert(amount, rate=quote.rate, decimals=quote.decimals), quote.decimals),
            "at": at,
        }
        for goods, amount, at in prices
    ]


def batch_quote(message: dict[str, Any], fallback: Quote) -> Quote:
    """The rate a batch carries for the connection's currency (rates move too)."""
    rate = message["rates"].get(fallback.currency)
    if rate is None:
        return fallback
    return Quote(
        currency=fallback.currency, rate=Decimal(rate[0]), decimals=rate[1], is_base=fallback.is_base
    )


def render_batch(message: dict[str, Any], quote: Quote, goods: Collection[int] | None) -> str:
    """The ``prices`` message of one batch for one connection.

    A connection narrowed to some goods still gets every batch, with only its
    goods (maybe none): ``seq`` then stays gapless for it, and a gap always
    means a lost batch.
    """
    if goods is not None:
        return _render(message, quote, [row for row in message["prices"] if row[0] in goods])
    key = (message["seq"], quote.currency)
    text = _rendered.get(key)
    if text is None:
        text = _rendered[key] = _render(message, quote, message["prices"])
        while len(_rendered) > _RENDERED_MAX:
            _rendered.popitem(last=False)
    return text


def _render(message: dict[str, Any], quote: Quote, rows: list[list[Any]]) -> str:
    at = message["at"]
    quote = batch_quote(message, quote)
    return dumps(
        {
            "type": "prices",
            "seq": message["seq"],
            "at": at,
            "currency": quote.currency,
            "prices": price_entries(((goods, Decimal(amount), at) for goods, amount in rows), quote),
        }
    )
