"""SPEC §5: changing and resetting the password; both end the old refresh tokens."""

import pytest
from rest_framework.test import APIClient

from shop.accounts.models import User
from shop.accounts.tests.helpers import NEW_PASSWORD, PASSWORD, Mailbox, obtain_tokens, reset_credentials
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # e-mails leave after commit

NO_ACCOUNT = "No active account found with the given credentials"

FieldErrors = dict[str, list[str]]


def assert_refresh_refused(client: APIClient, refresh: str) -> None:
    response = client.post("/auth/jwt/refresh/", {"refresh": refresh})
    assert response.status_code == 401, response.content
    assert response.json() == {"detail": "Token is blacklisted", "code": "token_not_valid"}


def assert_login_refused(client: APIClient, email: str, password: str) -> None:
    response = client.post("/auth/jwt/create/", {"email": email, "password": password})
    assert response.status_code == 401
    assert response.json() == {"detail": NO_ACCOUNT, "code": "no_active_account"}


@pytest.fixture
def old_refresh(anon: APIClient, shopper_user: User) -> str:
    """The refresh token of a session begun before the password is changed."""
    return str(obtain_tokens(anon, shopper_user.email)["refresh"])


def assert_password_unchanged(user: User, refresh: str) -> None:
    """The old password still holds and a refresh token issued before still works."""
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert APIClient().post("/auth/jwt/refresh/", {"refresh": refresh}).status_code == 200


def request_reset(client: APIClient, mailbox: Mailbox, user: User) -> dict[str, str]:
    response = client.post("/auth/users/reset_password/", {"email": user.email}, format="json")
    assert response.status_code == 204
    return reset_credentials(mailbox.to(user.email)[-1])


# --- set_password ----------------------------------------------------------


def test_set_password_ends_every_earlier_refresh_token(anon: APIClient, shopper_user: User) -> None:
    # given: two sessions, one of which has already rotated its refresh token
    first = obtain_tokens(anon, shopper_user.email)
    second = obtain_tokens(anon, shopper_user.email)
    rotated = anon.post("/auth/jwt/refresh/", {"refresh": second["refresh"]}).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access']}")

    # when
    response = client.post(
        "/auth/users/set_password/",
        {"new_password": NEW_PASSWORD, "current_password": PASSWORD},
        format="json",
    )

    # then
    assert response.status_code == 204
    assert response.content == b""
    assert_login_refused(anon, shopper_user.email, PASSWORD)
    assert_refresh_refused(anon, first["refresh"])
    assert_refresh_refused(anon, rotated["refresh"])

    # and: the new password opens a new session that refreshes normally
    fresh = obtain_tokens(anon, shopper_user.email, NEW_PASSWORD)
    renewed = anon.post("/auth/jwt/refresh/", {"refresh": fresh["refresh"]})
    assert renewed.status_code == 200
    assert set(renewed.json()) == {"access", "refresh"}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        pytest.param(
            {"new_password": NEW_PASSWORD, "current_password": "not my password"},
            {"current_password": ["Invalid password."]},
            id="wrong-current-password",
        ),
        pytest.param(
            {"new_password": "password", "current_password": PASSWORD},
            {"new_password": ["This password is too common."]},
            id="common-new-password",
        ),
    ],
)
def test_set_password_refused_changes_nothing(
    shopper: APIClient, shopper_user: User, old_refresh: str, body: dict[str, str], errors: FieldErrors
) -> None:
    # when
    response = shopper.post("/auth/users/set_password/", body, format="json")

    # then: refused with these errors, and the password and the sessions stay as they were
    assert (response.status_code, response.json()) == (400, errors)
    assert_password_unchanged(shopper_user, old_refresh)


def test_set_password_requires_both_fields(shopper: APIClient) -> None:
    response = shopper.post("/auth/users/set_password/", {}, format="json")

    assert response.status_code == 400
    required = ["This field is required."]
    assert response.json() == {"new_password": required, "current_password": required}


def test_set_password_is_401_for_anonymous(anon: APIClient) -> None:
    response = anon.post(
        "/auth/users/set_password/",
        {"new_password": NEW_PASSWORD, "current_password": PASSWORD},
        format="json",
    )

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }


def test_set_password_leaves_other_users_tokens_alone(
    anon: APIClient, shopper: APIClient, shopper_user: User
) -> None:
    # given
    other = UserFactory()
    others_tokens = obtain_tokens(anon, other.email)

    # when
    response = shopper.post(
        "/auth/users/set_password/",
        {"new_password": NEW_PASSWORD, "current_password": PASSWORD},
        format="json",
    )

    # then
    assert response.status_code == 204
    assert anon.post("/auth/jwt/refresh/", {"refresh": others_tokens["refresh"]}).status_code == 200


# --- reset_password --------------------------------------------------------


def test_reset_password_answers_alike_whether_or_not_the_email_exists(
    anon: APIClient, mailbox: Mailbox, shopper_user: User
) -> None:
    # when
    known = anon.post("/auth/users/reset_password/", {"email": shopper_user.email}, format="json")
    unknown = anon.post("/auth/users/reset_password/", {"email": "nobody@example.com"}, format="json")

    # then: no enumeration
    assert known.status_code == unknown.status_code == 204
    assert known.content == unknown.content == b""
    assert known.get("Content-Type") == unknown.get("Content-Type")

    # and only the real account got a mail
    messages = mailbox.messages()
    assert [m["To"] for m in messages] == [shopper_user.email]
    assert "reset" in messages[0]["Subject"].lower()
    reset_credentials(messages[0])


def test_reset_password_for_an_inactive_account_answers_alike_and_mails_nothing(
    anon: APIClient, mailbox: Mailbox, inactive_user: User
) -> None:
    response = anon.post("/auth/users/reset_password/", {"email": inactive_user.email}, format="json")

    assert response.status_code == 204
    assert response.content == b""
    assert mailbox.messages() == []


def test_reset_password_matches_the_email_in_any_case(
    anon: APIClient, mailbox: Mailbox, shopper_user: User
) -> None:
    response = anon.post("/auth/users/reset_password/", {"email": shopper_user.email.upper()}, format="json")

    assert response.status_code == 204
    assert [m["To"] for m in mailbox.messages()] == [shopper_user.email]


def test_reset_password_with_a_malformed_email_is_400(anon: APIClient, mailbox: Mailbox) -> None:
    response = anon.post("/auth/users/reset_password/", {"email": "nope"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["Enter a valid email address."]}
    assert mailbox.messages() == []


def test_reset_password_confirm_sets_the_password_and_ends_old_refresh_tokens(
    anon: APIClient, mailbox: Mailbox, shopper_user: User
) -> None:
    # given
    old = obtain_tokens(anon, shopper_user.email)
    credentials = request_reset(anon, mailbox, shopper_user)

    # when
    response = anon.post(
        "/auth/users/reset_password_confirm/", {**credentials, "new_password": NEW_PASSWORD}, format="json"
    )

    # then
    assert response.status_code == 204
    assert response.content == b""
    assert_login_refused(anon, shopper_user.email, PASSWORD)
    assert set(obtain_tokens(anon, shopper_user.email, NEW_PASSWORD)) == {"access", "refresh"}
    assert_refresh_refused(anon, old["refresh"])


def test_reset_link_works_once(anon: APIClient, mailbox: Mailbox, shopper_user: User) -> None:
    # given
    credentials = request_reset(anon, mailbox, shopper_user)
    data = {**credentials, "new_password": NEW_PASSWORD}
    assert anon.post("/auth/users/reset_password_confirm/", data, format="json").status_code == 204

    # when
    again = anon.post(
        "/auth/users/reset_password_confirm/",
        {**credentials, "new_password": "yet another secret 77"},
        format="json",
    )

    # then
    assert again.status_code == 400
    assert again.json() == {"token": ["Invalid token for given user."]}
    shopper_user.refresh_from_db()
    assert shopper_user.check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        pytest.param({"token": "abc-123"}, {"token": ["Invalid token for given user."]}, id="forged-token"),
        pytest.param(
            {"new_password": "12345678"},
            {"new_password": ["This password is too common.", "This password is entirely numeric."]},
            id="weak-new-password",
        ),
    ],
)
def test_reset_password_confirm_refused_changes_nothing(
    anon: APIClient,
    mailbox: Mailbox,
    shopper_user: User,
    old_refresh: str,
    change: dict[str, str],
    errors: FieldErrors,
) -> None:
    # given
    credentials = request_reset(anon, mailbox, shopper_user)

    # when: the link's uid and token, one of them or the new password changed
    response = anon.post(
        "/auth/users/reset_password_confirm/",
        {**credentials, "new_password": NEW_PASSWORD, **change},
        format="json",
    )

    # then
    assert response.status_code == 400
    assert response.json() == errors
    assert_password_unchanged(shopper_user, old_refresh)


def test_reset_password_confirm_requires_its_fields(anon: APIClient) -> None:
    response = anon.post("/auth/users/reset_password_confirm/", {}, format="json")

    assert response.status_code == 400
    required = ["This field is required."]
    assert response.json() == {"uid": required, "token": required, "new_password": required}
