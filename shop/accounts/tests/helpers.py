"""Helpers for the account-flow tests: read what the file mail transport wrote, log in."""

import email
import re
import socket
import threading
import time
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
        # In the order they were written (the file names only tell the second).
        for path in sorted(self.directory.glob("*.log"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
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


def activation_credentials(message: EmailMessage) -> dict[str, str]:
    """The uid and token of the one activation link in ``message``."""
    return uid_and_token(link_in(message, activation_prefix()), activation_prefix())


def reset_credentials(message: EmailMessage) -> dict[str, str]:
    """The uid and token of the one password-reset link in ``message``."""
    return uid_and_token(link_in(message, reset_prefix()), reset_prefix())


def register(client: APIClient, email_address: str, password: str = PASSWORD, **extra: Any) -> Any:
    """Sign up through the API; ``extra`` fields (``re_password`` too) override the form's."""
    data = {"email": email_address, "password": password, "re_password": password, **extra}
    return client.post("/auth/users/", data, format="json")


def obtain_tokens(client: APIClient, email_address: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/auth/jwt/create/", {"email": email_address, "password": password})
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def wait_for_mail(
    mailbox: Mailbox, address: str, count: int = 1, timeout: float = 60.0
) -> list[EmailMessage]:
    """The messages to ``address`` once there are ``count`` of them (they leave after the answer)."""
    deadline = time.monotonic() + timeout
    while len(found := mailbox.to(address)) < count:
        assert time.monotonic() < deadline, f"no {count} message(s) to {address} within {timeout} s: {found}"
        time.sleep(0.1)
    return found


class HeldSmtpServer:
    """A local SMTP server that holds every connection, before its greeting, until released.

    A sender that waits for it is stuck until ``release()``: a request that
    sent its e-mail itself could not answer before then.
    """

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.connected = threading.Event()
        self.released = threading.Event()
        self.messages: list[EmailMessage] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.released.set()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        self.connected.set()
        self.released.wait(60)
        with conn, conn.makefile("rb") as reader:
            conn.sendall(b"220 held.test ESMTP\r\n")
            while line := reader.readline():
                verb = line[:4].upper()
                if verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    data = b"".join(iter(reader.readline, b".\r\n"))
                    message = email.message_from_bytes(data, policy=default_policy)
                    assert isinstance(message, EmailMessage)
                    self.messages.append(message)
                    conn.sendall(b"250 queued\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:  # EHLO, MAIL FROM, RCPT TO, RSET, NOOP
                    conn.sendall(b"250 ok\r\n")
