"""The user admin: a password changed there ends the user's sessions, as the API's password doors do."""

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from shop.accounts.models import User
from shop.accounts.tests.helpers import obtain_tokens

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "an entirely new passphrase 7"


@pytest.fixture
def admin_client(superuser: Client) -> Client:
    return superuser


def password_page(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/password/"


def refresh(api: APIClient, token: str) -> Any:
    return api.post("/auth/jwt/refresh/", {"refresh": token}, format="json")


def test_a_password_set_in_the_admin_ends_the_users_refresh_tokens(
    admin_client: Client, anon: APIClient, shopper_user: User
) -> None:
    # given: a shopper logged in on two devices
    sessions = [obtain_tokens(anon, shopper_user.email) for _ in range(2)]
    # when: staff set a new password in the admin's password form
    response = admin_client.post(
        password_page(shopper_user),
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    # then: the password is the new one, and no session outlives the old one
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == f"/admin/accounts/user/{shopper_user.pk}/change/"
    shopper_user.refresh_from_db()
    assert shopper_user.check_password(NEW_PASSWORD)
    for session in sessions:
        answer = refresh(anon, session["refresh"])
        assert answer.status_code == 401, answer.json()
        assert answer.json()["code"] == "token_not_valid"
    assert obtain_tokens(anon, shopper_user.email, NEW_PASSWORD)["refresh"]


def test_disabling_password_login_in_the_admin_ends_them_too(
    admin_client: Client, anon: APIClient, shopper_user: User
) -> None:
    session = obtain_tokens(anon, shopper_user.email)
    response = admin_client.post(
        password_page(shopper_user), {"usable_password": "false", "unset-password": "1"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    shopper_user.refresh_from_db()
    assert not shopper_user.has_usable_password()
    assert refresh(anon, session["refresh"]).status_code == 401


def test_a_refused_form_changes_nothing(admin_client: Client, anon: APIClient, shopper_user: User) -> None:
    session = obtain_tokens(anon, shopper_user.email)
    response = admin_client.post(
        password_page(shopper_user),
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": "another one"},
    )
    assert response.status_code == 200  # the form again, with its error
    shopper_user.refresh_from_db()
    assert not shopper_user.check_password(NEW_PASSWORD)
    assert refresh(anon, session["refresh"]).status_code == 200
