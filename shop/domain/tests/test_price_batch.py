from datetime import UTC, datetime
from decimal import Decimal

from shop.domain.price_batch import NO_PRICES, GoodsPrice, PackedPrices, PriceBatch

AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_batch_made_of_rows_carries_its_prices_packed_and_unpacks_them() -> None:
    rows = [(11, 1, Decimal("12.30"), 7), (12, 2, Decimal("0.05"), None)]

    batch = PriceBatch.of_rows(at=AT, source="manual", rows=rows)

    assert (batch.prices.wire, len(batch)) == ("1:12.30,2:0.05", 2)  # the feed's form on Redis
    assert batch.rows == rows


def test_packed_prices_decode_what_they_encode() -> None:
    prices = [GoodsPrice(3, Decimal("1.00")), GoodsPrice(10, Decimal("99999.99"))]

    packed = PackedPrices.encode(prices)

    assert packed == PackedPrices("3:1.00,10:99999.99")
    assert packed.decode() == prices
    assert (PackedPrices.encode([]), NO_PRICES.decode()) == (NO_PRICES, [])


def test_an_empty_batch_has_no_rows() -> None:
    batch = PriceBatch(at=AT, source="tick", prices=NO_PRICES, ids=[], sale_ids=[])
    assert (len(batch), batch.rows, bool(batch)) == (0, [], False)
