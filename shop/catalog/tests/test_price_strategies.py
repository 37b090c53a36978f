"""The walk's and demand's moves: the statement PostgreSQL runs in a tick computes what the domain
functions (the reference, which embedded mode runs) compute, on the same inputs (SPEC §14)."""

import random
from decimal import Decimal

import pytest
from django.db import connection

from shop.catalog.price_store import demand_sql, walk_sql
from shop.domain.price_strategies import demand_next, walk_next

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

D = Decimal
CASES = 3000


def bounds(rng: random.Random) -> tuple[Decimal, Decimal]:
    low = D(rng.randint(1, 50_000)).scaleb(-2)
    return low, low + D(rng.randint(0, 100_000)).scaleb(-2)


def in_sql(expression: str, columns: dict[str, list[object]]) -> list[Decimal]:
    """``expression`` evaluated by PostgreSQL over rows of ``columns`` (numeric arrays), in order."""
    names = list(columns)
    sql = (
        f"SELECT {expression} FROM unnest({', '.join(['%s::numeric[]'] * len(names))}) "  # noqa: S608
        f"WITH ORDINALITY AS c({', '.join(names)}, n) ORDER BY c.n"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [[str(v) for v in columns[name]] for name in names])
        return [row[0] for row in cursor.fetchall()]


def test_the_walk_in_sql_is_the_domain_s() -> None:
    rng = random.Random(14)
    rows = []
    for _ in range(CASES):
        low, high = bounds(rng)
        current = D(rng.randint(int(low * 100), int(high * 100))).scaleb(-2)
        step = D(rng.randint(1, 5000)).scaleb(-4)
        u = D(repr(rng.uniform(-float(step), float(step))))  # as the tick draws it: a float's digits
        rows.append((current, u, low, high))
    rows += [
        (D("50.00"), D("0.0001"), D("10.00"), D("90.00")),
        (D("50.00"), D("-0.0001"), D("10.00"), D("90.00")),
    ]
    columns = dict(zip(("p", "u", "lo", "hi"), map(list, zip(*rows, strict=True)), strict=True))
    assert in_sql(walk_sql("c.p", "c.u", "c.lo", "c.hi"), columns) == [walk_next(*row) for row in rows]


def test_demand_in_sql_is_the_domain_s() -> None:
    rng = random.Random(15)
    rows = []
    for _ in range(CASES):
        low, high = bounds(rng)
        current = D(rng.randint(int(low * 100), int(high * 100))).scaleb(-2)
        rows.append(
            (current, rng.randint(0, 40), rng.randint(0, 12), D(rng.randint(1, 5000)).scaleb(-4), low, high)
        )
    rows.append((D("1.50"), 4, 3, D("0.03"), D("1.00"), D("2.00")))  # exactly half a cent: 1.515 -> 1.52
    columns = dict(zip(("p", "d", "t", "s", "lo", "hi"), map(list, zip(*rows, strict=True)), strict=True))
    expected = [demand_next(p, d, target_units=t, step=s, low=lo, high=hi) for p, d, t, s, lo, hi in rows]
    assert in_sql(demand_sql("c.p", "c.d", "c.t", "c.s", "c.lo", "c.hi"), columns) == expected
    assert expected[-1] == D("1.52")
