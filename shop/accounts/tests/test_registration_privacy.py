"""SPEC §5: sign-up does not tell who has an account; the owner of a taken address is told instead."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection, transaction
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from shop.accounts.models import User
from shop.accounts.tests.helpers import PASSWORD, Mailbox, activation_credentials, obtain_tokens, text_of
from shop.accounts.tests.helpers import register as register_as
from shop.tests.factories import UserFactory
from shop.tests.live import wait_until

pytestmark = pytest.mark.django_db(transaction=True)  # e-mails leave after commit

ADDRESS = "ada@example.com"
OTHER_PASSWORD = "an entirely different secret 31"


def register(client: APIClient, email: str = ADDRESS, password: str = OTHER_PASSWORD, **extra: str) -> Any:
    return register_as(client, email, password, **extra)


def answer(response: Any) -> tuple[int, bytes, str | None]:
    return response.status_code, response.content, response.get("Content-Type")


@pytest.mark.parametrize("typed", [ADDRESS, "Ada@EXAMPLE.com"])
def test_a_taken_address_gets_the_same_answer_as_a_new_one(
    anon: APIClient, mailbox: Mailbox, typed: str
) -> None:
    # given: the answer to the first sign-up of the address, while it was free
    first = register(anon)
    assert first.status_code == 201
    assert first.json() == {"email": ADDRESS}
    owner = User.objects.get()
    credentials = activation_credentials(mailbox.to(ADDRESS)[0])
    assert anon.post("/auth/users/activation/", credentials, format="json").status_code == 204

    # when: someone signs it up again, in any case, with another password
    again = register(anon, email=typed, password="yet another password 77")

    # then: byte for byte the same answer, and nothing changed
    assert answer(again) == answer(first)
    assert list(User.objects.values_list("id", "email")) == [(owner.id, ADDRESS)]
    owner.refresh_from_db()
    assert owner.check_password(OTHER_PASSWORD)
    assert owner.is_active

    # and: the owner is told, with no activation link (the account is active) but the way to log in
    activation, notice = mailbox.to(ADDRESS)
    assert "activat" in activation["Subject"].lower()
    assert notice["Subject"] == "Someone tried to register with your address on tickshop"
    body = text_of(notice)
    assert f"tried to create a tickshop account with {ADDRESS}" in body
    assert "/activate/" not in body
    assert "your password is unchanged" in body
    assert set(obtain_tokens(anon, ADDRESS, OTHER_PASSWORD)) == {"access", "refresh"}


def test_a_sign_up_of_an_inactive_account_takes_its_password_and_mails_a_fresh_link(
    anon: APIClient, mailbox: Mailbox, inactive_user: User
) -> None:
    # when
    response = register(anon, email=inactive_user.email)

    # then: the same answer as for a new address
    assert response.status_code == 201
    assert response.json() == {"email": inactive_user.email}
    # and: whoever proves the mailbox sets the password (the attack this stops:
    # test_registration_takeover.py): the account takes this sign-up's password, its owner the link
    (activation,) = mailbox.to(inactive_user.email)
    assert activation["Subject"] == "Account activation on tickshop"
    credentials = activation_credentials(activation)
    assert anon.post("/auth/users/activation/", credentials, format="json").status_code == 204
    inactive_user.refresh_from_db()
    assert inactive_user.is_active
    assert inactive_user.check_password(OTHER_PASSWORD)
    assert not inactive_user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("password", "re_password", "errors"),
    [
        pytest.param("password", "password", {"password": ["This password is too common."]}, id="common"),
        pytest.param(
            "x7",
            "x7",
            {"password": ["This password is too short. It must contain at least 8 characters."]},
            id="short",
        ),
        pytest.param(
            OTHER_PASSWORD,
            "typo",
            {"non_field_errors": ["The two password fields didn't match."]},
            id="retype",
        ),
        pytest.param(
            ADDRESS,
            ADDRESS,
            {"password": ["The password is too similar to the email."]},
            id="like-the-address",
        ),
    ],
)
def test_bad_input_gets_the_same_400_for_a_taken_and_a_new_address(
    anon: APIClient, mailbox: Mailbox, password: str, re_password: str, errors: dict[str, list[str]]
) -> None:
    # when
    new = register(anon, password=password, re_password=re_password)
    UserFactory(email=ADDRESS)
    taken = register(anon, password=password, re_password=re_password)

    # then
    assert new.status_code == 400
    assert new.json() == errors
    assert answer(taken) == answer(new)
    assert mailbox.messages() == []


class CountingHasher(PBKDF2PasswordHasher):
    """Django's default hasher, counting the passwords it hashes."""

    algorithm = "pbkdf2_sha256_counted"
    hashed: ClassVar[list[str]] = []

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        self.hashed.append(password)
        return super().encode(password, salt, iterations)


def test_a_taken_address_costs_the_same_password_hashing_as_a_new_one(
    anon: APIClient, mailbox: Mailbox, settings: Settings
) -> None:
    # given: the shop hashes with a hasher that counts
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.hashed.clear()

    # when: a new address, then the same one taken
    assert register(anon).status_code == 201
    assert register(anon, password="yet another password 77").status_code == 201

    # then: each sign-up hashed its password once (the slow part of the work)
    assert CountingHasher.hashed == [OTHER_PASSWORD, "yet another password 77"]


def test_concurrent_sign_ups_for_one_address_make_one_user(mailbox: Mailbox, settings: Settings) -> None:
    # given: 6 sign-ups of one address, released at once (more than its sign-up limit allows)
    settings.THROTTLE_REGISTER_PER_EMAIL = ""
    start = threading.Barrier(6)

    def sign_up(i: int) -> tuple[int, Any]:
        client = APIClient(REMOTE_ADDR=f"192.0.2.{i}")
        start.wait(timeout=30)
        response = register(
            client, email=ADDRESS.upper() if i % 2 else ADDRESS, password=f"{OTHER_PASSWORD}-{i}"
        )
        connection.close()
        return response.status_code, response.json()

    # when
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(sign_up, range(6)))

    # then: all alike, one user, still inactive, holding the password of one of the sign-ups (the one
    # that took the row last); every sign-up mailed the address an activation e-mail
    assert answers == [(201, {"email": ADDRESS})] * 6
    (user,) = User.objects.filter(email=ADDRESS)
    assert not user.is_active
    assert sum(user.check_password(f"{OTHER_PASSWORD}-{i}") for i in range(6)) == 1
    assert [m["Subject"] for m in mailbox.to(ADDRESS)] == ["Account activation on tickshop"] * 6


def an_insert_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE %s",
            ['INSERT INTO "accounts_user"%'],
        )
        row = cursor.fetchone()
    return bool(row and row[0] == 1)


def test_a_sign_up_that_loses_the_race_for_its_address_still_answers_201(mailbox: Mailbox) -> None:
    # given: another sign-up has inserted the address and not committed yet
    inserted, commit = threading.Event(), threading.Event()

    def other_sign_up() -> None:
        with transaction.atomic():
            UserFactory(email=ADDRESS, is_active=False)
            inserted.set()
            commit.wait(timeout=30)
        connection.close()

    def ours() -> Any:
        response = register(APIClient())
        connection.close()
        return response

    with ThreadPoolExecutor(2) as pool:
        other = pool.submit(other_sign_up)
        assert inserted.wait(timeout=30)
        # when: ours finds the address free and its insert waits on the unique index
        mine = pool.submit(ours)
        wait_until(an_insert_waits_for_a_lock, timeout=30)
        commit.set()
        other.result(timeout=30)
        response = mine.result(timeout=30)

    # then: the other sign-up's user stands, still inactive, and takes our password as a later sign-up
    # of an inactive account does; ours answered as if it were new, and the address gets the link
    assert (response.status_code, response.json()) == (201, {"email": ADDRESS})
    (user,) = User.objects.filter(email=ADDRESS)
    assert not user.is_active
    assert user.check_password(OTHER_PASSWORD)
    (activation,) = mailbox.to(ADDRESS)
    assert activation["Subject"] == "Account activation on tickshop"
