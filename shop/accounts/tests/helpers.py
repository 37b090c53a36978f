"""Helpers for the account-flow tests: read what the file mail transport wrote, log in."""

import email
import re
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from django.conf import settings
from rest_framework.test import APIClient

PASSWORD = "correct horse battery staple"  # shop.tests.factories.UserFactory
NEW_PASSWORD = "purple monkey dishwasher 42"

# The file backend ends every message with a line of 79 dashes (django.core.mail.backends.filebased).
_SEPARATOR = b"\n" + b"-" * 79 + b"\n"
_URL = re.compile(r"https?://[^\s<>\"']+")


class Mailbox:
    """The messages Django's file backend wrote into one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def messages(self) -> list[EmailMessage]:
        found: list[EmailMessage] = []
        for path in sorted(self.directory.glob("*.log")):
            for chunk in path.read_bytes().split(_SEPARATOR):
                if chunk.strip():
                    message = email.message_from_bytes(chunk, policy=default_policy)
                    assert isinstance(message, EmailMessage)
                    found.append(message)
        return found

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if address in m["To"]]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the message has no text/plain part"
    return str(part.get_content())


def link_in(message: EmailMessage, prefix: str) -> str:
    """The one link of the text body that starts with ``prefix``."""
    links = [url for url in _URL.findall(text_of(message)) if url.startswith(prefix)]
    assert len(links) == 1, f"expected one link starting with {prefix!r}, got {links!r}"
    return links[0]


def uid_and_token(link: str, prefix: str) -> dict[str, str]:
    """``{prefix}{uid}/{token}`` → ``{"uid": ..., "token": ...}``."""
    assert link.startswith(prefix)
    uid, token = link.removeprefix(prefix).strip("/").split("/")
    assert uid
    assert token
    return {"uid": uid, "token": token}


def activation_prefix() -> str:
    return settings.SITE_URL + "/activate/"


def reset_prefix() -> str:
    return settings.SITE_URL + "/password-reset/"


def obtain_tokens(client: APIClient, email_address: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/auth/jwt/create/", {"email": email_address, "password": password})
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body
