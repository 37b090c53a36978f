"""shop.accounts.store: both implementations read the user the ORM reads, on every database."""

import pytest
from django.db import connection

from shop.accounts.models import User
from shop.accounts.store import OrmUserStore, PostgresUserStore, UserStore, user_store
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def stores() -> list[UserStore]:
    """The portable one everywhere, PostgreSQL's where the tests run on it."""
    return [OrmUserStore(), *([PostgresUserStore()] if connection.vendor == "postgresql" else [])]


def fields(user: User | None) -> dict[str, object]:
    assert user is not None
    return {k: v for k, v in vars(user).items() if k != "_state"}


def test_the_vendor_chooses_the_store() -> None:
    expected = PostgresUserStore if connection.vendor == "postgresql" else OrmUserStore
    assert isinstance(user_store(), expected)


def test_a_user_by_pk_as_the_orm_makes_it() -> None:
    user = UserFactory(is_active=False)
    for store in stores():
        found = store.user_by_pk(user.pk)
        assert fields(found) == fields(User.objects.get(pk=user.pk))
        assert found is not None and found._state.db == "default" and not found._state.adding
        assert store.user_by_pk(user.pk + 1000) is None
