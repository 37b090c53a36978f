"""Who wants an event, as the database answers it: one interface, a PostgreSQL and a portable implementation.

shop.webhooks.selectors says what is read; this module only says how. Every
order asks (order.created), so PostgreSQL answers in one fixed statement that
filters by JSON containment (``?``) and returns ids only; SQLite has no such
operator, so there the active endpoints' lists are read and filtered here.
"""

from typing import Protocol

from django.db import connection

from shop.webhooks.models import WebhookEndpoint

ENDPOINT_IDS_FOR_SQL = (
    f"SELECT id FROM {WebhookEndpoint._meta.db_table} "  # noqa: S608 - the model's table
    "WHERE is_active AND events ? %s ORDER BY id"
)


class EndpointStore(Protocol):
    def endpoint_ids_for(self, *, kind: str) -> list[int]:
        """Active endpoints whose events include ``kind``, in id order."""


class PostgresEndpointStore:
    def endpoint_ids_for(self, *, kind: str) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(ENDPOINT_IDS_FOR_SQL, [kind])
            return [row[0] for row in cursor.fetchall()]


class OrmEndpointStore:
    def endpoint_ids_for(self, *, kind: str) -> list[int]:
        rows = WebhookEndpoint.objects.filter(is_active=True).order_by("id").values_list("id", "events")
        return [endpoint_id for endpoint_id, events in rows if kind in events]


_POSTGRES, _ORM = PostgresEndpointStore(), OrmEndpointStore()


def endpoint_store() -> EndpointStore:
    """The implementation for this thread's database connection."""
    return _POSTGRES if connection.vendor == "postgresql" else _ORM
