"""Issue 20, item 2: no pre-registration account takeover.

Signing up an address that is not yours leaves an inactive account holding your password. Whoever
proves the mailbox must set the password: a later sign-up of the still-inactive address replaces
it, which ends every activation link sent before (Django's token generator, which Djoser's
activation uses, hashes the password in), and only the link mailed for the latest sign-up activates.
"""

from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.accounts.models import User
from shop.accounts.tests.helpers import Mailbox, activation_credentials, obtain_tokens, text_of
from shop.accounts.tests.helpers import register as register_as

pytestmark = pytest.mark.django_db(transaction=True)  # e-mails leave after commit

VICTIM = "victim@example.com"
ATTACKER_PASSWORD = "attacker chose this one 13"
VICTIM_PASSWORD = "victim chose this one 42"

# The answer's headers that could tell the cases apart (the test client sets no Date or Server).
HEADERS = ("Content-Type", "Content-Length", "Vary", "Allow", "Location", "Set-Cookie", "Cache-Control")


def register(client: APIClient, password: str) -> Any:
    return register_as(client, VICTIM, password)


def answer(response: Any) -> tuple[int, bytes, dict[str, str | None]]:
    return response.status_code, response.content, {name: response.get(name) for name in HEADERS}


def log_in(client: APIClient, password: str) -> int:
    response = client.post("/auth/jwt/create/", {"email": VICTIM, "password": password}, format="json")
    status: int = response.status_code
    return status


def activate(client: APIClient, credentials: dict[str, str]) -> Any:
    return client.post("/auth/users/activation/", credentials, format="json")


@pytest.fixture
def attacker() -> APIClient:
    return APIClient(REMOTE_ADDR="203.0.113.66")


@pytest.fixture
def victim() -> APIClient:
    return APIClient(REMOTE_ADDR="198.51.100.7")


def test_the_victim_who_opens_the_latest_link_owns_the_account_with_their_password(
    attacker: APIClient, victim: APIClient, mailbox: Mailbox
) -> None:
    # given: the attacker signs up the victim's address with a password of theirs
    assert register(attacker, ATTACKER_PASSWORD).status_code == 201
    (attackers_mail,) = mailbox.to(VICTIM)
    attackers_link = activation_credentials(attackers_mail)

    # when: the victim signs up too, with their own password, and opens the link in the latest e-mail
    assert register(victim, VICTIM_PASSWORD).status_code == 201
    messages = mailbox.to(VICTIM)
    assert len(messages) == 2
    activated = activate(victim, activation_credentials(messages[-1]))

    # then: the account is active with the victim's password, and the attacker's does not log in
    assert activated.status_code == 204, activated.content
    assert User.objects.get(email=VICTIM).is_active
    assert log_in(victim, VICTIM_PASSWORD) == 200
    assert log_in(attacker, ATTACKER_PASSWORD) == 401
    assert set(obtain_tokens(victim, VICTIM, VICTIM_PASSWORD)) == {"access", "refresh"}

    # and: the attacker's earlier link is refused as a bad token (made for the password it replaced)
    refused = activate(attacker, attackers_link)
    assert refused.status_code == 400, refused.content
    assert refused.json() == {"token": ["Invalid token for given user."]}


def test_the_link_of_an_earlier_sign_up_is_dead_once_the_address_is_signed_up_again(
    attacker: APIClient, victim: APIClient, mailbox: Mailbox
) -> None:
    # given: the attacker signed up the address, then the victim did
    assert register(attacker, ATTACKER_PASSWORD).status_code == 201
    attackers_link = activation_credentials(mailbox.to(VICTIM)[0])
    assert register(victim, VICTIM_PASSWORD).status_code == 201

    # when: the first e-mail's link is opened
    refused = activate(attacker, attackers_link)

    # then: refused as a bad token, and nothing is activated, with either password
    assert refused.status_code == 400, refused.content
    assert refused.json() == {"token": ["Invalid token for given user."]}
    assert not User.objects.get(email=VICTIM).is_active
    assert log_in(attacker, ATTACKER_PASSWORD) == 401
    assert log_in(victim, VICTIM_PASSWORD) == 401

    # and: the latest e-mail is the activation e-mail, and its link activates with the victim's password
    latest = mailbox.to(VICTIM)[-1]
    assert latest["Subject"] == "Account activation on tickshop"
    assert "replaces the password" in text_of(latest)
    assert activate(victim, activation_credentials(latest)).status_code == 204
    assert log_in(victim, VICTIM_PASSWORD) == 200


def test_sign_up_answers_alike_for_a_new_an_inactive_and_an_active_address(
    attacker: APIClient, victim: APIClient, mailbox: Mailbox
) -> None:
    # when: the address is signed up while it is free, again while its account is inactive, and again
    # once it is active
    new = register(attacker, ATTACKER_PASSWORD)
    inactive = register(victim, VICTIM_PASSWORD)
    assert activate(victim, activation_credentials(mailbox.to(VICTIM)[-1])).status_code == 204
    active = register(attacker, "attacker tries once more 99")

    # then: byte for byte the same answer, headers and all
    assert new.status_code == 201
    assert new.json() == {"email": VICTIM}
    assert answer(inactive) == answer(new)
    assert answer(active) == answer(new)

    # and: only the sign-up of the inactive account took its password; the active one kept it
    assert log_in(victim, VICTIM_PASSWORD) == 200
    assert log_in(attacker, "attacker tries once more 99") == 401
    subjects = [m["Subject"] for m in mailbox.to(VICTIM)]
    assert subjects == [
        "Account activation on tickshop",
        "Account activation on tickshop",
        "Someone tried to register with your address on tickshop",
    ]
