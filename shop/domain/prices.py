"""A batch of prices committed together: what a price write hands to the feed and webhooks."""

from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property

# (price id, goods id, amount, sale id) of one new price.
PriceRow = tuple[int, int, Decimal, int | None]


@dataclass(frozen=True)
class PriceBatch:
    """The prices one write committed together, in goods order.

    ``text`` is "goods:amount,...": the feed's own string (SPEC §7), made once by the
    write (for a tick, by the statement that drew the prices), so the hot path never
    turns 100,000 amounts into Decimals and back. ``rows`` parses it when asked.
    """

    at: datetime
    source: str
    text: str
    ids: Sequence[int]
    sale_ids: Sequence[int | None]

    @classmethod
    def of_rows(cls, *, at: datetime, source: str, rows: Sequence[PriceRow]) -> "PriceBatch":
        """The batch of rows the write has as values already (not drawn by the database)."""
        return cls(
            at=at,
            source=source,
            text=",".join(f"{goods}:{amount}" for _, goods, amount, _ in rows),
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
        pairs = (item.split(":") for item in self.text.split(",")) if self.text else iter(())
        return [
            (pid, int(goods), Decimal(amount), sale)
            for pid, (goods, amount), sale in zip(self.ids, pairs, self.sale_ids, strict=True)
        ]


@dataclass(frozen=True)
class PublishedBatch:
    """A batch as the feed numbered it: what ``prices.batch`` events carry."""

    seq: int
    batch: PriceBatch
