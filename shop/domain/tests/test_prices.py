from datetime import UTC, datetime
from decimal import Decimal

from shop.domain.prices import PriceBatch

AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_batch_made_of_rows_carries_the_feed_text_and_parses_it_back() -> None:
    rows = [(11, 1, Decimal("12.30"), 7), (12, 2, Decimal("0.05"), None)]

    batch = PriceBatch.of_rows(at=AT, source="manual", rows=rows)

    assert (batch.text, len(batch)) == ("1:12.30,2:0.05", 2)
    assert batch.rows == rows


def test_an_empty_batch_has_no_rows() -> None:
    batch = PriceBatch(at=AT, source="tick", text="", ids=[], sale_ids=[])
    assert (len(batch), batch.rows, bool(batch)) == (0, [], False)
