"""A batch of prices committed together: what a price write hands to the feed and webhooks."""

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import NamedTuple

# (price id, goods id, amount, sale id) of one new price.
PriceRow = tuple[int, int, Decimal, int | None]


class GoodsPrice(NamedTuple):
    """One goods' new price in a batch, in the base currency."""

    goods: int
    amount: Decimal


@dataclass(frozen=True)
class PackedPrices:
    """A batch's (goods, amount) pairs, in goods order, packed as they travel: ``wire`` is
    ``"goods:amount,goods:amount"`` (amounts as ``str(Decimal)``, e.g. ``12.30``).

    The one encoder and decoder of that form. It is what the feed's channel-layer message
    carries (``prices``, over Redis in stack mode; realtime.publisher), packed once by the
    write, so the hot path never turns 100,000 amounts into Decimals and back: a tick's
    statement packs it in SQL, the same form (catalog/price_store.py, DRAW_AND_WRITE_SQL,
    whose tests decode it here). Whoever needs the values decodes it: webhooks, and each web
    process once per batch for all of its feed connections.
    """

    wire: str

    @classmethod
    def encode(cls, prices: Iterable[tuple[int, Decimal]]) -> "PackedPrices":
        return cls(",".join(f"{goods}:{amount}" for goods, amount in prices))

    def decode(self) -> list[GoodsPrice]:
        if not self.wire:
            return []
        pairs = (item.split(":") for item in self.wire.split(","))
        return [GoodsPrice(int(goods), Decimal(amount)) for goods, amount in pairs]


NO_PRICES = PackedPrices("")


@dataclass(frozen=True)
class PriceBatch:
    """The prices one write committed together, in goods order.

    ``prices`` are packed once by the write (for a tick, by the statement that drew them)
    and travel so to the feed; ``rows`` unpacks them when asked.
    """

    at: datetime
    source: str
    prices: PackedPrices
    ids: Sequence[int]
    sale_ids: Sequence[int | None]

    @classmethod
    def of_rows(cls, *, at: datetime, source: str, rows: Sequence[PriceRow]) -> "PriceBatch":
        """The batch of rows the write has as values already (not drawn by the database)."""
        return cls(
            at=at,
            source=source,
            prices=PackedPrices.encode((goods, amount) for _, goods, amount, _ in rows),
            ids=[pid for pid, _, _, _ in rows],
            sale_ids=[sale for _, _, _, sale in rows],
        )

    def __len__(self) -> int:
        return len(self.ids)

    def only(self, goods: Container[int]) -> "PriceBatch":
        """The part of this batch whose goods are in ``goods``."""
        kept = [row for row in self.rows if row[1] in goods]
        return (
            self if len(kept) == len(self) else PriceBatch.of_rows(at=self.at, source=self.source, rows=kept)
        )

    @cached_property
    def rows(self) -> list[PriceRow]:
        """(price id, goods id, amount, sale id) rows."""
        return [
            (pid, goods, amount, sale)
            for pid, (goods, amount), sale in zip(self.ids, self.prices.decode(), self.sale_ids, strict=True)
        ]


@dataclass(frozen=True)
class PublishedBatch:
    """A batch as the feed numbered it: what ``prices.batch`` events carry."""

    seq: int
    batch: PriceBatch
