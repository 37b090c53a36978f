"""SPEC §5: sign-up, the activation e-mail and its link, activation, resending it."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.accounts.models import User
from shop.accounts.tests.helpers import PASSWORD, Mailbox, activation_credentials, obtain_tokens, text_of
from shop.accounts.tests.helpers import register as register_as

pytestmark = pytest.mark.django_db(transaction=True)  # e-mails leave after commit

NEW_EMAIL = "new.shopper@example.com"


def register(client: APIClient, **overrides: Any) -> Any:
    return register_as(client, NEW_EMAIL, **{"re_password": PASSWORD, **overrides})


def test_sign_up_activate_and_log_in(anon: APIClient, mailbox: Mailbox) -> None:
    # when
    response = register(anon)

    # then: the account exists, inactive, and the answer shows neither password nor the new id
    # (a taken address gets the same answer: test_registration_privacy.py)
    assert response.status_code == 201, response.content
    user = User.objects.get(email=NEW_EMAIL)
    assert response.json() == {"email": NEW_EMAIL}
    assert not user.is_active
    assert user.check_password(PASSWORD)

    # then: one activation e-mail, written by the file transport, links to the storefront
    messages = mailbox.messages()
    assert len(messages) == 1
    message = messages[0]
    assert message["To"] == NEW_EMAIL
    assert "activat" in message["Subject"].lower()
    credentials = activation_credentials(message)

    # and: until activated, no tokens
    refused = anon.post("/auth/jwt/create/", {"email": NEW_EMAIL, "password": PASSWORD})
    assert refused.status_code == 401
    assert refused.json() == {
        "detail": "No active account found with the given credentials",
        "code": "no_active_account",
    }

    # when
    activated = anon.post("/auth/users/activation/", credentials, format="json")

    # then
    assert activated.status_code == 204, activated.content
    assert activated.content == b""
    user.refresh_from_db()
    assert user.is_active

    tokens = obtain_tokens(anon, NEW_EMAIL)
    assert set(tokens) == {"access", "refresh"}
    me = anon.get("/auth/users/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me.status_code == 200
    assert me.json()["email"] == NEW_EMAIL


def test_activation_link_cannot_be_used_twice(anon: APIClient, mailbox: Mailbox) -> None:
    # given
    assert register(anon).status_code == 201
    credentials = activation_credentials(mailbox.messages()[0])
    assert anon.post("/auth/users/activation/", credentials, format="json").status_code == 204

    # when
    again = anon.post("/auth/users/activation/", credentials, format="json")

    # then
    assert again.status_code == 403
    assert again.json() == {"detail": "Stale token for given user.", "code": "permission_denied"}


def test_activation_with_a_forged_token_is_refused(anon: APIClient, mailbox: Mailbox) -> None:
    # given
    assert register(anon).status_code == 201
    credentials = activation_credentials(mailbox.messages()[0])

    # when
    response = anon.post(
        "/auth/users/activation/", {"uid": credentials["uid"], "token": "abc-123"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {"token": ["Invalid token for given user."]}
    assert not User.objects.get(email=NEW_EMAIL).is_active


def test_activation_with_an_unknown_uid_is_refused(anon: APIClient) -> None:
    # when
    response = anon.post("/auth/users/activation/", {"uid": "bm9wZQ", "token": "abc-123"}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {"uid": ["Invalid user id or user doesn't exist."]}


def test_activation_requires_uid_and_token(anon: APIClient) -> None:
    response = anon.post("/auth/users/activation/", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"uid": ["This field is required."], "token": ["This field is required."]}


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        pytest.param({"email": "not-an-address"}, {"email": ["Enter a valid email address."]}, id="email"),
        pytest.param({"email": ""}, {"email": ["This field may not be blank."]}, id="blank-email"),
        pytest.param(
            {"re_password": "something else entirely 9"},
            {"non_field_errors": ["The two password fields didn't match."]},
            id="re_password",
        ),
        pytest.param({"password": "password"}, {"password": ["This password is too common."]}, id="common"),
        pytest.param(
            {"password": "x7", "re_password": "x7"},
            {"password": ["This password is too short. It must contain at least 8 characters."]},
            id="short",
        ),
        pytest.param(
            {"password": "83920174655", "re_password": "83920174655"},
            {"password": ["This password is entirely numeric."]},
            id="numeric",
        ),
        pytest.param(
            {"password": NEW_EMAIL, "re_password": NEW_EMAIL},
            {"password": ["The password is too similar to the email."]},
            id="like-email",
        ),
    ],
)
def test_sign_up_with_bad_input_is_400_with_field_errors(
    anon: APIClient, mailbox: Mailbox, overrides: dict[str, str], errors: dict[str, list[str]]
) -> None:
    # when
    response = register(anon, **overrides)

    # then
    assert response.status_code == 400
    assert response.json() == errors
    assert User.objects.count() == 0
    assert mailbox.messages() == []


def test_sign_up_without_fields_names_every_missing_one(anon: APIClient, mailbox: Mailbox) -> None:
    response = anon.post("/auth/users/", {}, format="json")

    assert response.status_code == 400
    required = ["This field is required."]
    assert response.json() == {"email": required, "password": required, "re_password": required}
    assert User.objects.count() == 0
    assert mailbox.messages() == []


def test_sign_up_cannot_choose_staff_or_active(anon: APIClient, mailbox: Mailbox) -> None:
    # when
    response = register(anon, is_staff=True, is_superuser=True, is_active=True)

    # then
    assert response.status_code == 201
    user = User.objects.get(email=NEW_EMAIL)
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, False)


def test_email_typed_in_mixed_case_logs_in_as_typed(anon: APIClient, mailbox: Mailbox) -> None:
    # given: signed up as "New.Shopper@Example.COM" and activated
    typed = "New.Shopper@Example.COM"
    assert register(anon, email=typed).status_code == 201
    credentials = activation_credentials(mailbox.to(NEW_EMAIL)[0])
    assert anon.post("/auth/users/activation/", credentials, format="json").status_code == 204

    # when / then: stored lower-cased, and the address works however it is typed
    assert User.objects.get().email == NEW_EMAIL
    assert set(obtain_tokens(anon, typed)) == {"access", "refresh"}
    assert set(obtain_tokens(anon, NEW_EMAIL)) == {"access", "refresh"}
    assert set(obtain_tokens(anon, f"  {NEW_EMAIL.upper()} ")) == {"access", "refresh"}


# --- resend_activation -----------------------------------------------------


def test_resend_activation_answers_alike_and_mails_only_the_inactive(
    anon: APIClient, mailbox: Mailbox, inactive_user: User, shopper_user: User
) -> None:
    # when
    responses = {
        address: anon.post("/auth/users/resend_activation/", {"email": address}, format="json")
        for address in (inactive_user.email, shopper_user.email, "nobody@example.com")
    }

    # then: the same answer for all three, so it cannot tell who has an account
    for response in responses.values():
        assert response.status_code == 204
        assert response.content == b""
    assert len({(r.status_code, r.content, r.get("Content-Type")) for r in responses.values()}) == 1

    # and only the inactive account gets a new link, which activates it
    messages = mailbox.messages()
    assert [m["To"] for m in messages] == [inactive_user.email]
    credentials = activation_credentials(messages[0])
    assert anon.post("/auth/users/activation/", credentials, format="json").status_code == 204
    inactive_user.refresh_from_db()
    assert inactive_user.is_active


def test_resend_activation_with_a_malformed_email_is_400(anon: APIClient, mailbox: Mailbox) -> None:
    response = anon.post("/auth/users/resend_activation/", {"email": "nope"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["Enter a valid email address."]}
    assert mailbox.messages() == []


def test_activation_mail_names_the_shop(anon: APIClient, mailbox: Mailbox) -> None:
    assert register(anon).status_code == 201

    message = mailbox.messages()[0]

    assert "tickshop" in message["Subject"]
    assert "tickshop" in text_of(message)
