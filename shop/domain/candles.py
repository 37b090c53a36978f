"""Open-high-low-close candles from a time-ordered series (SPEC §10)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

INTERVALS = {"1m": 60, "1h": 3600, "1d": 86400}


@dataclass(frozen=True)
class Candle:
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


def bucket_start(at: datetime, seconds: int) -> datetime:
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def candles(points: Iterable[Candle], *, seconds: int) -> list[Candle]:
    """Merge time-ordered candles (a raw price is a candle with o = h = l = c)
    into candles of ``seconds`` each, aligned to the epoch (UTC)."""
    merged: list[Candle] = []
    for point in points:
        start = bucket_start(point.start, seconds)
        last = merged[-1] if merged else None
        if last is not None and last.start == start:
            merged[-1] = Candle(
                start=start,
                open=last.open,
                high=max(last.high, point.high),
                low=min(last.low, point.low),
                close=point.close,
            )
        else:
            merged.append(Candle(start, point.open, point.high, point.low, point.close))
    return merged
