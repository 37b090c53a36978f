"""How a user row is read for a bearer token: one interface, a PostgreSQL and a portable implementation.

Every authenticated request reads its user (shop.accounts.authentication). The
ORM spends more building that one query than the database spends answering it,
so on PostgreSQL the same row is read by a fixed statement and made a ``User``
as the ORM makes one; SQLite (embedded mode) reads it through the ORM.
"""

import functools
from typing import Any, Protocol

from django.db import connection

from shop.accounts.models import User


class UserStore(Protocol):
    def user_by_pk(self, pk: Any) -> User | None:
        """The user whose primary key is ``pk`` (already of the key's type), or None."""


@functools.cache
def _user_query() -> tuple[str, list[str]]:
    """``SELECT <every column> FROM <user table> WHERE <id> = %s`` and the fields it reads."""
    fields = User._meta.concrete_fields
    quote = connection.ops.quote_name
    sql = "SELECT {} FROM {} WHERE {} = %s".format(  # noqa: S608 - names from the model
        ", ".join(quote(f.column) for f in fields),
        quote(User._meta.db_table),
        quote(User._meta.pk.column),
    )
    return sql, [f.attname for f in fields]


class PostgresUserStore:
    def user_by_pk(self, pk: Any) -> User | None:
        sql, names = _user_query()
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            row = cursor.fetchone()
        return None if row is None else User.from_db(connection.alias, names, row)


class OrmUserStore:
    def user_by_pk(self, pk: Any) -> User | None:
        return User.objects.filter(pk=pk).first()


_POSTGRES, _ORM = PostgresUserStore(), OrmUserStore()


def user_store() -> UserStore:
    """The implementation for this thread's database connection."""
    return _POSTGRES if connection.vendor == "postgresql" else _ORM
