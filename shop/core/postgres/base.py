"""Django's PostgreSQL backend with a cheaper check of pooled connections.

The pool checks each connection before lending it, so that after a database
restart no request gets a connection the server has closed. psycopg's check
(what Django uses with CONN_HEALTH_CHECKS) is a round trip to the server on
every lend, that is on every request. A connection the server closed has its
error message or end of file waiting on the socket, so this check polls the
socket first (no round trip) and only a connection with something to read is
checked for real, and dropped by the pool when broken.

Django 5.2 builds the pool itself and always passes psycopg's ``check``, so
``OPTIONS["pool"]["check"]`` fails (TypeError: multiple values for 'check';
Django ticket #37075 lets it through in a later release). Until then the pool is
built here as Django builds it, through two of its private names: see
docs/architecture.md, "Where we lean on private APIs", and the tests that pin them.
"""

import select
from typing import Any

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool


def pool_check(connection: Any) -> None:
    """Raise when the pooled ``connection`` is broken, as ``ConnectionPool.check_connection`` does."""
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    if readable or connection.closed:
        ConnectionPool.check_connection(connection)


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> ConnectionPool | None:
        """Django's pool (``OPTIONS["pool"]``), built with ``pool_check``."""
        options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not options:
            return None
        if self.alias not in self._connection_pools:  # type: ignore[attr-defined]
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # as Django's: it sets the mode itself later
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,  # opened on first use, as Django's
                configure=self._configure_connection,  # type: ignore[attr-defined]
                check=pool_check,
                **({} if options is True else options),
            )
            self._connection_pools.setdefault(self.alias, pool)  # type: ignore[attr-defined]
        return self._connection_pools[self.alias]  # type: ignore[attr-defined,no-any-return]
