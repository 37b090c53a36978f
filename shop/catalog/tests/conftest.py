"""Fixtures of the catalog's tests."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from shop.tests.factories import UserFactory


@pytest.fixture
def admin_client(db: None) -> Client:
    """Staff with the admin's goods permissions (not a superuser)."""
    user = UserFactory(is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="catalog", codename__in=("add_goods", "change_goods", "view_goods")
        )
    )
    client = Client()
    client.force_login(user)
    return client
