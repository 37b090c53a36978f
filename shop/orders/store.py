"""How an order reaches the database: one interface, a PostgreSQL and a portable implementation.

shop.orders.services decides what an order is and in which order its steps run (the
currency and goods locked, then the clock and the rate read, then the order written, SPEC
§4); this module only says how. PostgreSQL takes one round trip per step; SQLite (embedded
mode, which serialises writers) runs the same steps through the ORM.

The INSERT of an order with its lines is generated from the models' fields: a column added
to ``Order`` or ``OrderLine`` is written by both implementations without a change here.
"""

import functools
import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from django.db import IntegrityError, connection, models, transaction

from shop.accounts.models import User
from shop.catalog.selectors import OrderableGoods, goods_orderable, goods_orderable_get
from shop.catalog.stock_store import StockRow, stock_store
from shop.core.db_store import db_now
from shop.currency.models import Currency
from shop.currency.selectors import currency_active_get, currency_unknown, rate_active, rate_missing
from shop.currency.store import active_rate_sql
from shop.orders.models import IdempotencyKey, Order, OrderLine


class _LockedGoods(NamedTuple):
    """A goods row as the lock statement returns it: what goods_orderable reads."""

    id: int
    name: str
    is_active: bool
    price: Decimal | None
    current_price_id: int | None
    stock: int | None
    reserved: int


class Clocked(NamedTuple):
    at: datetime
    rate_id: int
    rate: Decimal
    taken: list[StockRow]  # the stock of the goods units were taken from, as it is now


class OrderStore(Protocol):
    def lock_and_read(
        self, *, currency_code: str, goods_ids: Sequence[int]
    ) -> tuple[Currency, dict[int, OrderableGoods]]:
        """Lock the goods (in id order: those tracking stock FOR NO KEY UPDATE, the others FOR
        SHARE) and the currency FOR SHARE, and read them:
        the active currency (400 when unknown or inactive) and the orderable goods among
        ``goods_ids``, with their stock."""

    def clock_and_rate(self, *, currency_code: str, take: Mapping[int, int]) -> Clocked:
        """The database clock now, and the id and value of the rate active at that instant (400
        when there is none); in the same round trip, ``take`` (goods id -> units) taken from the
        stock of those goods, locked and checked by the caller."""

    def insert(self, order: Order, lines: list[OrderLine]) -> tuple[Order, list[OrderLine]]:
        """Write the order and its lines (given in goods order); the saved rows come back."""

    def insert_many(self, orders: Sequence[Order]) -> list[Order]:
        """Write ``orders``, each with its ``lines``; the saved orders come back, in the same
        order, their lines attached."""

    def key_claim(self, *, user: User, key: str, fingerprint: str, window: timedelta) -> bool:
        """Record the Idempotency-Key (user, key), or take over one older than ``window``;
        False when a live one exists (the caller reads the order it placed). A concurrent
        claim of the same key waits for this transaction, as any INSERT on a unique index."""


# --- PostgreSQL ----------------------------------------------------------------------------

# The goods (in id order) and then the currency FOR SHARE, returning what the order needs of them
# (one row per goods found; no row at all when the currency is unknown or inactive).
# A goods whose stock is tracked is locked FOR NO KEY UPDATE, as the order may take its stock:
# two orders sharing a lock and then both updating the row would deadlock. Any other goods is
# locked FOR SHARE, so that orders of the same untracked goods are placed side by side, as they
# always were; its stock cannot become tracked meanwhile (that takes an exclusive lock). Both
# conflict with price writers' FOR UPDATE: SPEC §4's invariant rests on that. Each goods is
# locked in turn, in id order, by one of two probes (a nested loop over the ids); a goods whose
# tracking changed while the order waited for it is found by neither (the placement asks again).
# The goods are locked before the currency, so that orders queueing for a goods hold no lock on
# the currency meanwhile: a rate writer waits for the orders being placed, not for every order
# waiting. (The currency's condition reads the goods CTE: it runs, and locks, first.)
_GOODS_COLUMNS = ("id", "name", "is_active", "price", "current_price_id", "stock", "reserved")
LOCK_SQL = f"""
WITH goods AS MATERIALIZED (
    SELECT {", ".join(f"coalesce(shared.{c}, own.{c}) AS {c}" for c in _GOODS_COLUMNS)}
    FROM unnest(string_to_array(%(goods)s, ',')::bigint[]) WITH ORDINALITY AS wanted (id, n)
    LEFT JOIN LATERAL (
        SELECT {", ".join(_GOODS_COLUMNS)} FROM catalog_goods
        WHERE id = wanted.id AND stock IS NULL
        FOR SHARE
    ) AS shared ON true
    LEFT JOIN LATERAL (
        SELECT {", ".join(_GOODS_COLUMNS)} FROM catalog_goods
        WHERE id = wanted.id AND stock IS NOT NULL
        FOR NO KEY UPDATE
    ) AS own ON true
    WHERE shared.id IS NOT NULL OR own.id IS NOT NULL
    ORDER BY wanted.n
), currency AS MATERIALIZED (
    SELECT code, name, symbol, decimals FROM currency_currency
    WHERE code = %(currency)s AND is_active AND (SELECT count(*) FROM goods) >= 0
    FOR SHARE
)
SELECT currency.code, currency.name, currency.symbol, currency.decimals,
       {", ".join(f"goods.{c}" for c in _GOODS_COLUMNS)}
FROM currency LEFT JOIN goods ON true
ORDER BY goods.id
"""  # noqa: S608 - constants only
# The clock, read once after the locks are held, and the rate active at that instant.
CLOCK_AND_RATE_SQL = f"""
WITH clock AS MATERIALIZED (SELECT clock_timestamp() AS at)
SELECT clock.at, rate.id, rate.rate
FROM clock LEFT JOIN LATERAL (
    {active_rate_sql(columns="id, rate", currency="%(currency)s", at="clock.at")}
) AS rate ON true
"""  # noqa: S608 - constants only
# The same, for an order that takes tracked stock: the units are taken in the same round trip
# (the goods locked by LOCK_SQL and checked by the caller; CHECK (stock >= 0) backs the check),
# and the goods' stock comes back as the announcement needs it.
CLOCK_RATE_AND_TAKE_SQL = f"""
WITH taken AS (
    UPDATE catalog_goods AS g SET stock = g.stock - t.units
    FROM unnest(%(goods)s::bigint[], %(units)s::integer[]) AS t (id, units)
    WHERE g.id = t.id AND g.stock IS NOT NULL
    RETURNING g.id, g.stock, g.reserved, g.version
), clock AS MATERIALIZED (SELECT clock_timestamp() AS at)
SELECT clock.at, rate.id, rate.rate,
       (SELECT array_agg(ARRAY[id, stock, reserved, version] ORDER BY id) FROM taken)
FROM clock LEFT JOIN LATERAL (
    {active_rate_sql(columns="id, rate", currency="%(currency)s", at="clock.at")}
) AS rate ON true
"""  # noqa: S608 - constants only
# A new key is inserted; a key older than the window is taken over (its row reset); a live
# one is left alone, and then no row comes back. No savepoint is needed: a conflict is no
# error here.
CLAIM_SQL = """
INSERT INTO orders_idempotencykey AS k (user_id, key, fingerprint, order_id, created_at)
VALUES (%(user)s, %(key)s, %(print)s, NULL, clock_timestamp())
ON CONFLICT (user_id, key) DO UPDATE
    SET fingerprint = EXCLUDED.fingerprint, order_id = NULL, created_at = EXCLUDED.created_at
    WHERE k.created_at < clock_timestamp() - %(window)s::interval
RETURNING k.id
"""


def _written(model: type[models.Model], *, skip: str = "") -> "list[models.Field[Any, Any]]":
    """The columns an INSERT of ``model`` writes: every concrete field but the key (and ``skip``)."""
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.attname != skip]


def _columns(fields: "list[models.Field[Any, Any]]") -> str:
    return ", ".join(f.column for f in fields)


def _record(fields: "list[models.Field[Any, Any]]") -> str:
    """The columns with their types, as jsonb_to_recordset reads a row of them."""
    return ", ".join(f"{f.column} {f.db_type(connection)}" for f in fields)


@functools.cache
def _insert_sql() -> str:
    """The order and its lines in one statement, from the models' fields; lines come in goods
    order, so their ids do too. Lines travel as one JSON text: psycopg spends more on adapting a
    list, element by element, than the database spends on the whole statement."""
    order_fields, line_fields = _written(Order), _written(OrderLine, skip="order_id")
    order_columns, order_values = _columns(order_fields), ", ".join(f"%({f.attname})s" for f in order_fields)
    line_columns, line_types = _columns(line_fields), _record(line_fields)
    return f"""
WITH new_order AS (
    INSERT INTO {Order._meta.db_table} ({order_columns}) VALUES ({order_values})
    RETURNING id
), new_lines AS (
    INSERT INTO {OrderLine._meta.db_table} (order_id, {line_columns})
    SELECT new_order.id, {line_columns}
    FROM new_order, jsonb_to_recordset(%(lines)s::jsonb) AS line({line_types})
    ORDER BY line.goods_id
    RETURNING id, goods_id
)
SELECT (SELECT id FROM new_order), array(SELECT id FROM new_lines ORDER BY goods_id)
"""  # noqa: S608 - the models' own names


# The key of a line's JSON object that holds its order's position (1-based, as ORDINALITY's).
_ORDER_KEY = "_order_n"


def _next_id(model: type[models.Model]) -> str:
    """The next value of ``model``'s key sequence (the sequence looked up once a statement)."""
    table = connection.ops.quote_name(model._meta.db_table)
    return f"nextval((SELECT pg_get_serial_sequence('{table}', '{model._meta.pk.column}')::regclass))"


@functools.cache
def _insert_many_sql() -> str:
    """Many orders and all their lines in one statement, from the models' fields. Orders and lines
    each travel as one JSON text (see _insert_sql); a line names its order by the order's
    position. The ids are drawn in the CTEs, each row with its position, so they map back to the
    input by construction; drawn after the sort, they ascend in input order (lines: in goods order
    within their order, as _insert_sql's)."""
    order_fields, line_fields = _written(Order), _written(OrderLine, skip="order_id")
    order_columns, order_types = _columns(order_fields), _record(order_fields)
    line_columns, line_types = _columns(line_fields), _record(line_fields)
    return f"""
WITH new_order AS MATERIALIZED (
    SELECT {_next_id(Order)} AS id, o._n, {", ".join(f"o.{f.column}" for f in order_fields)}
    FROM ROWS FROM (jsonb_to_recordset(%(orders)s::jsonb) AS ({order_types}))
        WITH ORDINALITY AS o({order_columns}, _n)
    ORDER BY o._n
), new_line AS MATERIALIZED (
    SELECT {_next_id(OrderLine)} AS id, new_order.id AS order_id, line._n,
           {", ".join(f"line.{f.column}" for f in line_fields)}
    FROM ROWS FROM (jsonb_to_recordset(%(lines)s::jsonb) AS ({line_types}, {_ORDER_KEY} bigint))
        WITH ORDINALITY AS line({line_columns}, {_ORDER_KEY}, _n)
    JOIN new_order ON new_order._n = line.{_ORDER_KEY}
    ORDER BY line.{_ORDER_KEY}, line.goods_id, line._n
), orders_written AS (
    INSERT INTO {Order._meta.db_table} (id, {order_columns}) SELECT id, {order_columns} FROM new_order
), lines_written AS (
    INSERT INTO {OrderLine._meta.db_table} (id, order_id, {line_columns})
    SELECT id, order_id, {line_columns} FROM new_line
)
SELECT array(SELECT id FROM new_order ORDER BY _n), array(SELECT id FROM new_line ORDER BY _n)
"""  # noqa: S608 - the models' own names


def _values(instance: models.Model, fields: "list[models.Field[Any, Any]]") -> dict[str, Any]:
    return {f.attname: f.get_db_prep_save(getattr(instance, f.attname), connection) for f in fields}


def _loaded(model: type[models.Model], values: dict[str, Any], *, like: models.Model | None = None) -> Any:
    """An instance as loaded from the database (``Model.from_db``): saved, in this database; with
    the related objects ``like`` (the unsaved instance it was made from) already holds."""
    instance = model.from_db(connection.alias, list(values), list(values.values()))
    for field in model._meta.concrete_fields:
        if like is not None and isinstance(field, models.ForeignKey) and field.is_cached(like):
            setattr(instance, field.name, getattr(like, field.name))
    return instance


def _saved(instance: models.Model, pk: int) -> None:
    """``instance``, just inserted with the key ``pk``, marked as saved in this database."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


class _PostgresOrderStore:
    def lock_and_read(
        self, *, currency_code: str, goods_ids: Sequence[int]
    ) -> tuple[Currency, dict[int, OrderableGoods]]:
        params = {"currency": currency_code, "goods": ",".join(map(str, goods_ids))}
        with connection.cursor() as cursor:
            cursor.execute(LOCK_SQL, params)
            rows = cursor.fetchall()
            if rows and sum(row[4] is not None for row in rows) < len(goods_ids):
                # unknown goods, or one whose tracking changed while we waited: a second look sees it
                cursor.execute(LOCK_SQL, params)
                rows = cursor.fetchall()
        if not rows:
            raise currency_unknown(currency_code)
        code, name, symbol, decimals = rows[0][:4]
        currency = _loaded(
            Currency, {"code": code, "name": name, "symbol": symbol, "decimals": decimals, "is_active": True}
        )
        found = (goods_orderable(_LockedGoods(*row[4:11])) for row in rows if row[4] is not None)
        return currency, {goods.id: goods for goods in found if goods is not None}

    def clock_and_rate(self, *, currency_code: str, take: Mapping[int, int]) -> Clocked:
        with connection.cursor() as cursor:
            if take:
                goods = sorted(take)
                params: dict[str, Any] = {
                    "currency": currency_code,
                    "goods": goods,
                    "units": [take[g] for g in goods],
                }
                cursor.execute(CLOCK_RATE_AND_TAKE_SQL, params)
                at, rate_id, rate, taken = cursor.fetchone()
            else:
                cursor.execute(CLOCK_AND_RATE_SQL, {"currency": currency_code})
                (at, rate_id, rate), taken = cursor.fetchone(), None
        if rate_id is None:
            raise rate_missing()
        return Clocked(at, rate_id, rate, [StockRow(*row) for row in taken or ()])

    def insert(self, order: Order, lines: list[OrderLine]) -> tuple[Order, list[OrderLine]]:
        order_fields, line_fields = _written(Order), _written(OrderLine, skip="order_id")
        order_values = {f.attname: getattr(order, f.attname) for f in order_fields}
        line_values = [{f.attname: getattr(line, f.attname) for f in line_fields} for line in lines]
        params = _values(order, order_fields)
        # Column names as jsonb_to_recordset reads them; Decimals as exact strings.
        params["lines"] = json.dumps(
            [{f.column: getattr(line, f.attname) for f in line_fields} for line in lines], default=str
        )
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(), params)
            order_id, line_ids = cursor.fetchone()
        saved = _loaded(Order, {"id": order_id, **order_values}, like=order)
        saved_lines = [
            _loaded(OrderLine, {"id": line_id, "order_id": order_id, **values}, like=line)
            for line_id, values, line in zip(line_ids, line_values, lines, strict=True)
        ]
        for line in saved_lines:
            line.order = saved
        return saved, saved_lines

    def insert_many(self, orders: Sequence[Order]) -> list[Order]:
        if not orders:
            return []
        order_fields, line_fields = _written(Order), _written(OrderLine, skip="order_id")
        # Column names as jsonb_to_recordset reads them; Decimals and datetimes as exact strings
        # (str() of an aware datetime keeps its microseconds and its offset).
        params = {
            "orders": json.dumps(
                [{f.column: getattr(order, f.attname) for f in order_fields} for order in orders], default=str
            ),
            "lines": json.dumps(
                [
                    {_ORDER_KEY: n, **{f.column: getattr(line, f.attname) for f in line_fields}}
                    for n, order in enumerate(orders, start=1)
                    for line in order.lines
                ],
                default=str,
            ),
        }
        with connection.cursor() as cursor:
            cursor.execute(_insert_many_sql(), params)
            order_ids, line_ids = cursor.fetchone()
        # The instances given become the saved ones, as bulk_create makes them: building each anew
        # (_loaded) would cost more than the statement.
        line_id = iter(line_ids)
        for order, order_id in zip(orders, order_ids, strict=True):
            _saved(order, order_id)
            for line in order.lines:
                _saved(line, next(line_id))
                line.order = order
        return list(orders)

    def key_claim(self, *, user: User, key: str, fingerprint: str, window: timedelta) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                CLAIM_SQL,
                {"user": user.pk, "key": key, "print": fingerprint, "window": f"{window.total_seconds()} s"},
            )
            return cursor.fetchone() is not None


# --- SQLite (embedded mode) ----------------------------------------------------------------


class _OrmOrderStore:
    """SQLite serialises writers (IMMEDIATE transactions): no row lock is needed."""

    def lock_and_read(
        self, *, currency_code: str, goods_ids: Collection[int]
    ) -> tuple[Currency, dict[int, OrderableGoods]]:
        return currency_active_get(code=currency_code), goods_orderable_get(goods_ids=goods_ids)

    def clock_and_rate(self, *, currency_code: str, take: Mapping[int, int]) -> Clocked:
        taken = stock_store().move({goods: -units for goods, units in take.items()}) if take else []
        at = db_now()
        rate = rate_active(currency_code=currency_code, at=at)
        return Clocked(at, rate.id, rate.rate, taken)

    def insert(self, order: Order, lines: list[OrderLine]) -> tuple[Order, list[OrderLine]]:
        order.save(force_insert=True)
        for line in lines:
            line.order = order
        return order, OrderLine.objects.bulk_create(lines)

    def insert_many(self, orders: Sequence[Order]) -> list[Order]:
        # Two statements (orders, then all their lines): SQLite returns the new ids of a bulk INSERT.
        lines_of = [order.lines for order in orders]
        saved = Order.objects.bulk_create(orders)
        for order, lines in zip(saved, lines_of, strict=True):
            for line in lines:
                line.order = order
        written = OrderLine.objects.bulk_create([line for lines in lines_of for line in lines])
        start = 0
        for order, lines in zip(saved, lines_of, strict=True):
            order.lines = written[start : start + len(lines)]
            start += len(lines)
        return saved

    def key_claim(self, *, user: User, key: str, fingerprint: str, window: timedelta) -> bool:
        IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=db_now() - window).delete()
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
        except IntegrityError:
            return False
        return True


_POSTGRES, _ORM = _PostgresOrderStore(), _OrmOrderStore()


def order_store() -> OrderStore:
    """The implementation for this process's database."""
    return _POSTGRES if connection.vendor == "postgresql" else _ORM
