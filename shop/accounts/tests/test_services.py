"""shop.accounts.services: the staff account, sign-up that tells nothing, refresh tokens, e-mails."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from shop.accounts.emails import AccountEmail
from shop.accounts.models import User
from shop.accounts.services import (
    account_email_send,
    tokens_flush_expired,
    user_create_staff_once,
    user_register,
    user_revoke_refresh_tokens,
)
from shop.accounts.tests.helpers import PASSWORD
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_user_create_staff_once() -> None:
    assert user_create_staff_once(email="Admin@Example.com", password=PASSWORD) is True
    admin = User.objects.get(email="admin@example.com")
    assert (admin.is_staff, admin.is_superuser, admin.is_active) == (True, True, True)
    # the address has an account now: left as it is, whatever password is given
    assert user_create_staff_once(email="admin@example.com", password="another one entirely") is False
    admin.refresh_from_db()
    assert admin.check_password(PASSWORD)


@pytest.fixture
def sent(mailed: Any) -> Any:
    return mailed


def test_user_register_a_new_address(sent: Any) -> None:
    outbox = sent(lambda: user_register(email="Ada@Example.com", password=PASSWORD))
    user = User.objects.get(email="ada@example.com")
    assert not user.is_active
    assert user.check_password(PASSWORD)
    assert [m.to for m in outbox] == [["ada@example.com"]]


def test_user_register_a_taken_address_creates_nothing(sent: Any) -> None:
    owner = UserFactory(email="ada@example.com")
    outbox = sent(lambda: user_register(email="ADA@example.com", password="another password 1"))
    assert User.objects.filter(email="ada@example.com").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert [m.to for m in outbox] == [["ada@example.com"]]  # the owner is told, the caller is not
    assert "You already have an account with this address" in outbox[0].body  # not an activation mail


def test_user_register_an_inactive_address_takes_the_new_password_and_ends_old_links(sent: Any) -> None:
    # given: an inactive account, and an activation token made for it as it is
    owner = UserFactory(email="ada@example.com", is_active=False)
    old_token = default_token_generator.make_token(owner)

    # when
    outbox = sent(lambda: user_register(email="ADA@example.com", password="another password 1"))

    # then: still one inactive account, now with the new password; the old token no longer checks
    owner.refresh_from_db()
    assert User.objects.filter(email="ada@example.com").count() == 1
    assert not owner.is_active
    assert owner.check_password("another password 1")
    assert not default_token_generator.check_token(owner, old_token)
    assert [(m.to, m.subject) for m in outbox] == [(["ada@example.com"], "Account activation on tickshop")]


def test_user_revoke_refresh_tokens() -> None:
    user, other = UserFactory(), UserFactory()
    RefreshToken.for_user(user)
    RefreshToken.for_user(user)
    RefreshToken.for_user(other)
    assert user_revoke_refresh_tokens(user=user) == 2
    assert user_revoke_refresh_tokens(user=user) == 0
    assert BlacklistedToken.objects.filter(token__user=other).count() == 0


def test_tokens_flush_expired() -> None:
    user = UserFactory()
    RefreshToken.for_user(user)
    expired = RefreshToken.for_user(user)
    OutstandingToken.objects.filter(jti=expired["jti"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    tokens_flush_expired()
    assert list(OutstandingToken.objects.values_list("user", flat=True)) == [user.id]


def test_account_email_send(mailoutbox: list[Any]) -> None:
    inactive, active = UserFactory(is_active=False), UserFactory()
    assert account_email_send(kind=AccountEmail.ACTIVATION, user_id=inactive.id) is True
    assert account_email_send(kind="activation", user_id=active.id) is False  # active already
    assert account_email_send(kind=AccountEmail.PASSWORD_RESET, user_id=0) is False  # gone
    assert [m.to for m in mailoutbox] == [[inactive.email]]
