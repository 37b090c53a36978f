"""SPEC §5: the current user (/auth/users/me/) and what a shopper may see of other users."""

import pytest
from rest_framework.test import APIClient

from shop.accounts.models import User
from shop.accounts.tests.helpers import PASSWORD, obtain_tokens
from shop.core.ids import INVALID_ID
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOT_AUTHENTICATED = "Authentication credentials were not provided."
NOT_FOUND = {"detail": "Not found.", "code": "not_found"}


def test_me_shows_the_current_user(shopper: APIClient, shopper_user: User) -> None:
    response = shopper.get("/auth/users/me/")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": shopper_user.id,
        "email": shopper_user.email,
        "first_name": "",
        "last_name": "",
        "is_staff": False,
        "date_joined": body["date_joined"],
    }
    assert "password" not in response.content.decode()


def test_me_is_401_for_anonymous(anon: APIClient) -> None:
    for method in ("get", "patch", "put", "delete"):
        response = getattr(anon, method)("/auth/users/me/")

        assert response.status_code == 401, method
        assert response.json() == {"detail": NOT_AUTHENTICATED, "code": "not_authenticated"}


def test_patch_me_changes_names(shopper: APIClient, shopper_user: User) -> None:
    # when
    response = shopper.patch("/auth/users/me/", {"first_name": "Ada", "last_name": "Lovelace"}, format="json")

    # then
    assert response.status_code == 200
    assert response.json()["first_name"] == "Ada"
    assert response.json()["last_name"] == "Lovelace"
    shopper_user.refresh_from_db()
    assert (shopper_user.first_name, shopper_user.last_name) == ("Ada", "Lovelace")


def test_patch_me_cannot_change_email_or_become_staff(shopper: APIClient, shopper_user: User) -> None:
    # given
    email = shopper_user.email

    # when
    response = shopper.patch(
        "/auth/users/me/",
        {"email": "taken.over@example.com", "is_staff": True, "is_superuser": True, "is_active": False},
        format="json",
    )

    # then: read-only fields are ignored, not applied
    assert response.status_code == 200
    assert response.json()["email"] == email
    assert response.json()["is_staff"] is False
    shopper_user.refresh_from_db()
    assert shopper_user.email == email
    assert (shopper_user.is_staff, shopper_user.is_superuser, shopper_user.is_active) == (False, False, True)
    assert shopper.get("/auth/users/me/").json()["is_staff"] is False


def test_put_me_cannot_become_staff_either(shopper: APIClient, shopper_user: User) -> None:
    response = shopper.put(
        "/auth/users/me/",
        {"email": "x@example.com", "first_name": "B", "last_name": "C", "is_staff": True},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["first_name"] == "B"
    shopper_user.refresh_from_db()
    assert shopper_user.is_staff is False
    assert shopper_user.email != "x@example.com"


def test_email_cannot_be_changed_through_other_djoser_endpoints(
    shopper: APIClient, shopper_user: User
) -> None:
    # Djoser also offers set_email / reset_email; the address is the login and is read-only here.
    for path, data in [
        ("/auth/users/set_email/", {"new_email": "other@example.com", "current_password": PASSWORD}),
        ("/auth/users/reset_email/", {"email": shopper_user.email}),
        ("/auth/users/reset_email_confirm/", {"uid": "x", "token": "y", "new_email": "o@example.com"}),
    ]:
        response = shopper.post(path, data, format="json")

        # no such action: the path falls to the user detail route, whose id is not a number
        assert response.status_code == 400, path
        assert response.json() == {"detail": INVALID_ID, "code": "invalid_id"}
    shopper_user.refresh_from_db()
    assert shopper_user.email != "other@example.com"


def test_user_list_does_not_leak_other_users_to_a_shopper(shopper: APIClient, shopper_user: User) -> None:
    # given
    others = UserFactory.create_batch(2)

    # when
    response = shopper.get("/auth/users/")

    # then: Djoser's HIDE_USERS answers 404 rather than revealing that the list exists
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    for other in others:
        assert other.email not in response.content.decode()


def test_user_list_is_401_for_anonymous(anon: APIClient, shopper_user: User) -> None:
    response = anon.get("/auth/users/")

    assert response.status_code == 401
    assert response.json() == {"detail": NOT_AUTHENTICATED, "code": "not_authenticated"}
    assert shopper_user.email not in response.content.decode()


def test_user_list_is_for_staff(staff: APIClient, staff_user: User, shopper_user: User) -> None:
    response = staff.get("/auth/users/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {u["email"] for u in body["results"]} == {staff_user.email, shopper_user.email}


def test_shopper_cannot_read_or_change_another_user(shopper: APIClient, shopper_user: User) -> None:
    # given
    other = UserFactory(first_name="Other")

    # when / then: another user is 404, never 403 (SPEC §4), and nothing changes
    read = shopper.get(f"/auth/users/{other.id}/")
    assert read.status_code == 404
    assert read.json() == NOT_FOUND

    changed = shopper.patch(f"/auth/users/{other.id}/", {"first_name": "Mallory"}, format="json")
    assert changed.status_code == 404
    assert changed.json() == NOT_FOUND

    deleted = shopper.delete(f"/auth/users/{other.id}/", {"current_password": PASSWORD}, format="json")
    assert deleted.status_code == 404
    assert deleted.json() == NOT_FOUND

    other.refresh_from_db()
    assert other.first_name == "Other"


def test_shopper_reads_themself_by_id(shopper: APIClient, shopper_user: User) -> None:
    response = shopper.get(f"/auth/users/{shopper_user.id}/")

    assert response.status_code == 200
    assert response.json()["email"] == shopper_user.email


def test_deleting_the_account_ends_its_refresh_tokens(
    anon: APIClient, shopper: APIClient, shopper_user: User
) -> None:
    # given
    tokens = obtain_tokens(anon, shopper_user.email)

    # when
    response = shopper.delete("/auth/users/me/", {"current_password": PASSWORD}, format="json")

    # then
    assert response.status_code == 204
    assert not User.objects.filter(id=shopper_user.id).exists()
    refreshed = anon.post("/auth/jwt/refresh/", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 401
    assert refreshed.json() == {"detail": "Token is blacklisted", "code": "token_not_valid"}
    me = anon.get("/auth/users/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me.status_code == 401
    assert me.json() == {"detail": "User not found", "code": "user_not_found"}
