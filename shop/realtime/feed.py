"""Shaping feed messages: conversion and JSON, shared by every connection of a process."""

import json
from collections.abc import Container, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from cachetools import FIFOCache

from shop.domain.money import Quote
from shop.domain.price_batch import GoodsPrice, PackedPrices

dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

# Every connection of a process sees the same batches: parse each batch once
# (seq -> rows) and render it once per currency ((seq, currency) -> text), the latest 64 of each.
# Keys carry the batch's time too: seq starts again at 1 if Redis loses it. No lock: only the
# event loop's thread (the consumers' feed_prices) reads and fills them.
_CACHE_MAX = 64
_rows: "FIFOCache[tuple[int, str], list[GoodsPrice]]" = FIFOCache(maxsize=_CACHE_MAX)
_rendered: "FIFOCache[tuple[int, str, str], str]" = FIFOCache(maxsize=_CACHE_MAX)
_stock_rendered: "FIFOCache[tuple[int, str], str]" = FIFOCache(maxsize=_CACHE_MAX)


def batch_rows(message: dict[str, Any]) -> list[GoodsPrice]:
    """The batch's packed prices (shop.realtime.publisher) as (goods, amount) rows, decoded once per process."""
    key = (message["seq"], message["at"])
    rows = _rows.get(key)
    if rows is None:
        rows = _rows[key] = PackedPrices(message["prices"]).decode()
    return rows


def batch_time(message: dict[str, Any]) -> float:
    """The batch's write time (its prices' ``created_at``, read just before commit), Unix seconds."""
    return datetime.fromisoformat(message["at"]).timestamp()


def price_entries(prices: Iterable[tuple[int, Decimal, str]], quote: Quote) -> list[dict[str, Any]]:
    """``[(goods, base amount, at)]`` -> ``[{goods, price, at}]`` in the quote's currency."""
    show = quote.show
    return [{"goods": goods, "price": show(amount), "at": at} for goods, amount, at in prices]


def batch_quote(message: dict[str, Any], fallback: Quote) -> Quote:
    """The rate a batch carries for the connection's currency (rates move too)."""
    rate = message["rates"].get(fallback.currency)
    if rate is None:
        return fallback
    return Quote(
        currency=fallback.currency, rate=Decimal(rate[0]), decimals=rate[1], is_base=fallback.is_base
    )


def render_batch(message: dict[str, Any], quote: Quote, goods: Container[int] | None) -> str:
    """The ``prices`` message of one batch for one connection.

    A connection narrowed to some goods still gets every batch, with only its
    goods (maybe none): ``seq`` then stays gapless for it, and a gap always
    means a lost batch.
    """
    rows = batch_rows(message)
    if goods is not None:
        return _render(message, quote, [row for row in rows if row.goods in goods])
    key = (message["seq"], message["at"], quote.currency)
    text = _rendered.get(key)
    if text is None:
        text = _rendered[key] = _render(message, quote, rows)
    return text


def _render(message: dict[str, Any], quote: Quote, rows: list[GoodsPrice]) -> str:
    at = message["at"]
    quote = batch_quote(message, quote)
    return dumps(
        {
            "type": "prices",
            "seq": message["seq"],
            "at": at,
            "source": message.get("source"),  # None from a process of an earlier release
            "currency": quote.currency,
            "prices": price_entries(((goods, amount, at) for goods, amount in rows), quote),
        }
    )


def stock_entries(rows: Iterable[list[Any]], goods: Container[int] | None) -> list[dict[str, Any]]:
    """``[[goods, available, version]]`` (shop.realtime.publisher) -> ``[{goods, available, version}]``."""
    return [
        {"goods": row[0], "available": row[1], "version": row[2]}
        for row in rows
        if goods is None or row[0] in goods
    ]


def render_stock(message: dict[str, Any], goods: Container[int] | None) -> str:
    """The ``stock`` message of one committed stock change for one connection: like a price batch,
    every connection gets it, with only its goods (maybe none), so ``stock_seq`` stays gapless."""
    key = (message["stock_seq"], message["at"])
    text = _stock_rendered.get(key) if goods is None else None
    if text is None:
        text = dumps(
            {
                "type": "stock",
                "stock_seq": message["stock_seq"],
                "at": message["at"],
                "goods": stock_entries(message["goods"], goods),
            }
        )
        if goods is None:
            _stock_rendered[key] = text
    return text
