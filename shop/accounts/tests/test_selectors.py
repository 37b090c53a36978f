"""Which user an access token names (shop.accounts.selectors): the live feed's ``auth``."""

from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from shop.accounts.selectors import user_id_of_access_token
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_access_token_names_its_active_user() -> None:
    user = UserFactory()
    assert user_id_of_access_token(str(RefreshToken.for_user(user).access_token)) == user.pk
    assert user_id_of_access_token(str(AccessToken.for_user(user))) == user.pk


def test_tokens_that_name_no_active_user_name_nobody() -> None:
    user, inactive, gone = UserFactory(), UserFactory(is_active=False), UserFactory()
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    gone_token = str(AccessToken.for_user(gone))
    gone.delete()
    valid = str(AccessToken.for_user(user))

    assert user_id_of_access_token(str(RefreshToken.for_user(user))) is None  # not an access token
    assert user_id_of_access_token(str(expired)) is None
    assert user_id_of_access_token(str(AccessToken.for_user(inactive))) is None
    assert user_id_of_access_token(gone_token) is None
    assert (
        user_id_of_access_token(valid[:-2] + ("AA" if not valid.endswith("AA") else "BB")) is None
    )  # signature
    assert user_id_of_access_token("") is None
    assert user_id_of_access_token("not.a.token") is None
    assert user_id_of_access_token("é" * 100) is None
