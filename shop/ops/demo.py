"""Demo data: a few currencies, a dozen goods and one running sale (SPEC §2)."""

import logging
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from shop.catalog.models import Goods, Sale
from shop.catalog.services.prices import prices_record
from shop.catalog.services.sales import sale_create
from shop.currency.models import Currency
from shop.currency.services import currency_create, rate_create

logger = logging.getLogger(__name__)

CURRENCIES = [
    # code, name, symbol, decimals, units per 1 USD
    ("USD", "US Dollar", "$", 2, Decimal("1")),
    ("EUR", "Euro", "€", 2, Decimal("0.92")),
    ("GBP", "Pound Sterling", "£", 2, Decimal("0.79")),
    ("JPY", "Yen", "¥", 0, Decimal("157.67483296")),
    ("UAH", "Hryvnia", "₴", 2, Decimal("41.50")),
]
GOODS = [
    ("Espresso machine", "Pressure, crema, and a little theatre.", "249.00"),
    ("Mechanical keyboard", "Tactile switches for long nights.", "89.90"),
    ("Noise-cancelling headphones", "Silence, on demand.", "199.00"),
    ("Cast-iron skillet", "Seasoned for a lifetime of breakfasts.", "39.50"),
    ("Trail running shoes", "Grip on rock, mud and tarmac.", "119.00"),
    ("Fountain pen", "Steel nib, converter included.", "24.00"),
    ("Desk lamp", "Warm light, adjustable arm.", "45.00"),
    ("Backpack 30 l", "Weatherproof, laptop sleeve.", "79.00"),
    ("Chess set", "Weighted pieces, walnut board.", "65.00"),
    ("Bluetooth speaker", "Small box, big sound.", "55.00"),
    ("Yoga mat", "Non-slip, 6 mm.", "29.90"),
    ("Smart watch", "Steps, sleep and the time.", "149.00"),
]
SALE_NAME = "Opening sale"
SALE_GOODS = 8


@transaction.atomic
def demo_load() -> bool:
    """Load the demo data unless the shop already has goods; True when loaded."""
    for code, name, symbol, decimals, rate in CURRENCIES:
        if Currency.objects.filter(code=code).exists():
            continue
        currency_create(code=code, name=name, symbol=symbol, decimals=decimals)
        if code != settings.BASE_CURRENCY:
            rate_create(currency_code=code, rate=rate, source="manual")
    if Goods.objects.exists():
        return False
    goods = [Goods.objects.create(name=name, description=text) for name, text, _ in GOODS]
    prices_record(
        amounts={g.id: Decimal(price) for g, (_, _, price) in zip(goods, GOODS, strict=True)},
        source="manual",
    )
    if not Sale.objects.filter(name=SALE_NAME).exists():
        sale_create(
            name=SALE_NAME, min_price=Decimal("10.00"), max_price=Decimal("99.99"), goods=goods[:SALE_GOODS]
        )
    logger.info("demo data loaded: %d currencies, %d goods, 1 sale", len(CURRENCIES), len(goods))
    return True
