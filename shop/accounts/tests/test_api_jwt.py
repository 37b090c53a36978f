"""SPEC §5: obtaining, refreshing and verifying JWTs; Bearer authentication."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from shop.accounts.authentication import user_get
from shop.accounts.models import User
from shop.accounts.tests.helpers import PASSWORD, obtain_tokens
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NO_ACCOUNT = "No active account found with the given credentials"


def test_create_returns_an_access_and_a_refresh_token(anon: APIClient, shopper_user: User) -> None:
    # when
    response = anon.post("/auth/jwt/create/", {"email": shopper_user.email, "password": PASSWORD})

    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert AccessToken(body["access"])["user_id"] == str(shopper_user.id)
    assert RefreshToken(body["refresh"])["user_id"] == str(shopper_user.id)
    shopper_user.refresh_from_db()
    assert shopper_user.last_login is not None


@pytest.mark.parametrize(
    ("email", "password"),
    [
        pytest.param("inactive@example.com", PASSWORD, id="inactive"),
        pytest.param("active@example.com", "not the password at all", id="wrong-password"),
        pytest.param("nobody@example.com", PASSWORD, id="unknown-email"),
    ],
)
def test_create_refuses_with_the_same_401(anon: APIClient, email: str, password: str) -> None:
    # given
    UserFactory(email="inactive@example.com", is_active=False)
    UserFactory(email="active@example.com")

    # when
    response = anon.post("/auth/jwt/create/", {"email": email, "password": password})

    # then: one answer for all three, so it does not tell which accounts exist or are active
    assert response.status_code == 401
    assert response.json() == {"detail": NO_ACCOUNT, "code": "no_active_account"}


def test_create_requires_email_and_password(anon: APIClient) -> None:
    response = anon.post("/auth/jwt/create/", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["This field is required."], "password": ["This field is required."]}


def test_access_token_lives_15_minutes_and_refresh_token_1_day(anon: APIClient, shopper_user: User) -> None:
    # when
    tokens = obtain_tokens(anon, shopper_user.email)

    # then
    access = AccessToken(tokens["access"])
    refresh = RefreshToken(tokens["refresh"])
    assert access["token_type"] == "access"
    assert refresh["token_type"] == "refresh"
    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh["exp"] - refresh["iat"] == 24 * 60 * 60


def test_access_token_is_accepted_until_15_minutes_old(shopper_user: User) -> None:
    # given: two access tokens, issued 14 and 16 minutes ago
    def issued_ago(minutes: int) -> str:
        token = AccessToken.for_user(shopper_user)
        issued = timezone.now() - timedelta(minutes=minutes)
        token.set_iat(at_time=issued)
        token.set_exp(from_time=issued)
        return str(token)

    client = APIClient()

    # when / then
    fresh = client.get("/auth/users/me/", HTTP_AUTHORIZATION=f"Bearer {issued_ago(14)}")
    assert fresh.status_code == 200
    assert fresh.json()["email"] == shopper_user.email

    stale = client.get("/auth/users/me/", HTTP_AUTHORIZATION=f"Bearer {issued_ago(16)}")
    assert stale.status_code == 401
    assert stale.json()["code"] == "token_not_valid"
    assert stale.json()["detail"] == "Given token not valid for any token type"


def test_requests_authenticate_with_bearer_only(anon: APIClient, shopper_user: User) -> None:
    # given
    access = obtain_tokens(anon, shopper_user.email)["access"]

    # when
    bearer = anon.get("/auth/users/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    other_scheme = APIClient().get("/auth/users/me/", HTTP_AUTHORIZATION=f"JWT {access}")

    # then
    assert bearer.status_code == 200
    assert bearer.json()["id"] == shopper_user.id
    assert other_scheme.status_code == 401
    assert other_scheme.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }


def test_an_access_token_is_only_as_good_as_its_account(shopper_user: User) -> None:
    # given: a valid access token, and the account as the database holds it
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(shopper_user)}")
    me = client.get("/auth/users/me/")
    assert me.status_code == 200
    assert me.json()["email"] == shopper_user.email
    assert {k: v for k, v in vars(user_get(user_id=shopper_user.id)).items() if k != "_state"} == {
        k: v for k, v in vars(User.objects.get(id=shopper_user.id)).items() if k != "_state"
    }
    # when: the account is deactivated, then deleted
    User.objects.filter(id=shopper_user.id).update(is_active=False)
    inactive = client.get("/auth/users/me/")
    User.objects.filter(id=shopper_user.id).delete()
    gone = client.get("/auth/users/me/")
    # then
    assert inactive.status_code == gone.status_code == 401
    assert inactive.json() == {"detail": "User is inactive", "code": "user_inactive"}
    assert gone.json() == {"detail": "User not found", "code": "user_not_found"}
    assert user_get(user_id=shopper_user.id) is None
    assert user_get(user_id="not a number") is None


def test_staff_rights_come_from_the_account(staff_user: User, shopper_user: User) -> None:
    body = {"code": "CHF", "name": "Swiss franc", "symbol": "Fr", "decimals": 2}
    for user, status in ((shopper_user, 403), (staff_user, 201)):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        assert client.post("/api/currency/", body, format="json").status_code == status


def test_refresh_rotates_and_blacklists_the_old_refresh_token(anon: APIClient, shopper_user: User) -> None:
    # given
    first = obtain_tokens(anon, shopper_user.email)

    # when
    response = anon.post("/auth/jwt/refresh/", {"refresh": first["refresh"]})

    # then: a new pair, both full-lived
    assert response.status_code == 200
    rotated = response.json()
    assert set(rotated) == {"access", "refresh"}
    assert rotated["refresh"] != first["refresh"]
    new_refresh = RefreshToken(rotated["refresh"])
    assert new_refresh["exp"] - new_refresh["iat"] == 24 * 60 * 60
    new_access = AccessToken(rotated["access"])
    assert new_access["exp"] - new_access["iat"] == 15 * 60
    me = APIClient().get("/auth/users/me/", HTTP_AUTHORIZATION=f"Bearer {rotated['access']}")
    assert me.status_code == 200

    # and: the old refresh token is spent
    reused = anon.post("/auth/jwt/refresh/", {"refresh": first["refresh"]})
    assert reused.status_code == 401
    assert reused.json() == {"detail": "Token is blacklisted", "code": "token_not_valid"}

    # and: the new one still works (once)
    again = anon.post("/auth/jwt/refresh/", {"refresh": rotated["refresh"]})
    assert again.status_code == 200
    assert set(again.json()) == {"access", "refresh"}


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        pytest.param("garbage", "Token is invalid", id="garbage"),
        pytest.param("", None, id="blank"),
    ],
)
def test_refresh_rejects_bad_tokens(anon: APIClient, token: str, detail: str | None) -> None:
    response = anon.post("/auth/jwt/refresh/", {"refresh": token})

    if detail is None:
        assert response.status_code == 400
        assert response.json() == {"refresh": ["This field may not be blank."]}
    else:
        assert response.status_code == 401
        assert response.json() == {"detail": detail, "code": "token_not_valid"}


def test_refresh_refuses_an_access_token(anon: APIClient, shopper_user: User) -> None:
    access = obtain_tokens(anon, shopper_user.email)["access"]

    response = anon.post("/auth/jwt/refresh/", {"refresh": access})

    assert response.status_code == 401
    assert response.json() == {"detail": "Token has wrong type", "code": "token_not_valid"}


def test_refresh_token_is_not_a_bearer_token(anon: APIClient, shopper_user: User) -> None:
    refresh = obtain_tokens(anon, shopper_user.email)["refresh"]

    response = APIClient().get("/auth/users/me/", HTTP_AUTHORIZATION=f"Bearer {refresh}")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert response.json()["detail"] == "Given token not valid for any token type"


def test_refresh_is_refused_once_the_user_is_deactivated(anon: APIClient, shopper_user: User) -> None:
    # given
    refresh = obtain_tokens(anon, shopper_user.email)["refresh"]
    shopper_user.is_active = False
    shopper_user.save(update_fields=["is_active"])

    # when
    response = anon.post("/auth/jwt/refresh/", {"refresh": refresh})

    # then
    assert response.status_code == 401
    assert response.json() == {
        "detail": "No active account found for the given token.",
        "code": "no_active_account",
    }


def test_verify_accepts_valid_tokens(anon: APIClient, shopper_user: User) -> None:
    tokens = obtain_tokens(anon, shopper_user.email)

    for token in (tokens["access"], tokens["refresh"]):
        response = anon.post("/auth/jwt/verify/", {"token": token})

        assert response.status_code == 200
        assert response.json() == {}


def test_verify_rejects_garbage(anon: APIClient) -> None:
    response = anon.post("/auth/jwt/verify/", {"token": "not.a.jwt"})

    assert response.status_code == 401
    assert response.json() == {"detail": "Token is invalid", "code": "token_not_valid"}


def test_verify_rejects_a_tampered_token(anon: APIClient, shopper_user: User) -> None:
    header, payload, signature = obtain_tokens(anon, shopper_user.email)["access"].split(".")
    tampered = f"{header}.{payload}.{signature[::-1]}"

    response = anon.post("/auth/jwt/verify/", {"token": tampered})

    assert response.status_code == 401
    assert response.json() == {"detail": "Token is invalid", "code": "token_not_valid"}


def test_verify_rejects_a_blacklisted_refresh_token(anon: APIClient, shopper_user: User) -> None:
    # given
    refresh = obtain_tokens(anon, shopper_user.email)["refresh"]
    assert anon.post("/auth/jwt/refresh/", {"refresh": refresh}).status_code == 200

    # when
    response = anon.post("/auth/jwt/verify/", {"token": refresh})

    # then: refused; SimpleJWT's verify reports the blacklist as a 400 validation error, not 401
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Token is blacklisted"]}
