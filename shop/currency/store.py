"""The active-rate rule (SPEC §4) in its two executions, side by side.

The rate active at an instant is the one with the greatest ``valid_from`` not after it (the
greater id between two of one ``valid_from``). The ORM form serves querysets and embedded
mode; the SQL form serves statements that read the rate with other rows in one round trip
(a priced read's quote here, the order placement's clock-and-rate in shop.orders.store).
A test holds both to the same answer on every database.
"""

from datetime import datetime

from django.db import connection
from django.db.models import F, QuerySet

from shop.currency.models import ExchangeRate

# Newest first: the first row of the filtered set is the active one.
RATE_ORDER = (F("valid_from").desc(), F("id").desc())


def rates_active_first(*, at: datetime) -> QuerySet[ExchangeRate]:
    """Every currency's rates that were valid at ``at``, the active one first (filter by currency
    or by ``OuterRef``)."""
    return ExchangeRate.objects.filter(valid_from__lte=at).order_by(*RATE_ORDER)


def active_rate_sql(*, columns: str, currency: str, at: str) -> str:
    """The same rule as a scalar or lateral subquery: ``columns`` of the rate of ``currency`` (a
    column or placeholder) active at ``at`` (an expression or placeholder)."""
    return (  # built from the code's own constants, never from input
        f"SELECT {columns} FROM currency_exchangerate WHERE currency_id = {currency} "  # noqa: S608
        f"AND valid_from <= {at} ORDER BY valid_from DESC, id DESC LIMIT 1"
    )


# An active currency and its active rate in one round trip: every priced read asks for it. The rate
# comes as text: exact on both databases (SQLite would hand a float).
QUOTE_SQL = f"""
SELECT c.code, c.decimals, CAST(({active_rate_sql(columns="rate", currency="c.code", at="%(now)s")}) AS TEXT)
FROM currency_currency c
WHERE c.code = %(code)s AND c.is_active
"""  # noqa: S608 - constants only


def quote_row(*, code: str, at: datetime) -> tuple[str, int, str | None] | None:
    """(code, decimals, active rate as text or None) of active currency ``code``; None when it is
    unknown or inactive. Same statement on both databases."""
    with connection.cursor() as cursor:
        cursor.execute(QUOTE_SQL, {"code": code, "now": at})
        row: tuple[str, int, str | None] | None = cursor.fetchone()
    return row
