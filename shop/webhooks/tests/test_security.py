"""shop.webhooks.security: which addresses a webhook may reach, and what a refusal tells."""

import socket
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.core.errors import ValidationError
from shop.webhooks.errors import WebhookErrorCode
from shop.webhooks.models import WebhookEndpoint
from shop.webhooks.security import URL_NOT_PUBLIC, url_target

HOST = "hooks.example.com"
real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def resolves_to(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make HOST resolve to the given addresses (every other name resolves as usual)."""

    def given(*addresses: str) -> None:
        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host != HOST:
                return real_getaddrinfo(host, port, *args, **kwargs)
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    return given


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 (RFC 6052) of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254, the cloud metadata service
        "64:ff9b::a01:203",  # NAT64 of 10.1.2.3
        "64:ff9b:1::5db8:d70e",  # local-use NAT64 (RFC 8215): never public, whatever it embeds
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:c0a8:a::1",  # 6to4 of 192.168.0.10
        "::7f00:1",  # IPv4-compatible ::127.0.0.1 (deprecated)
    ],
)
def test_ipv6_addresses_that_embed_a_private_ipv4_one_are_refused(address: str) -> None:
    with pytest.raises(ValidationError) as caught:
        url_target(f"https://[{address}]/hooks")
    assert caught.value.code == WebhookErrorCode.URL_NOT_PUBLIC


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::5db8:d70e",  # NAT64 of 93.184.215.14
        "2002:5db8:d70e::1",  # 6to4 of 93.184.215.14
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ],
)
def test_ipv6_addresses_of_public_ones_are_taken(address: str) -> None:
    assert url_target(f"https://[{address}]/hooks").address == address


@pytest.mark.django_db
@pytest.mark.usefixtures("send_nothing")
@pytest.mark.parametrize("address", ["10.20.30.40", "fd12:3456:789a::1", "64:ff9b::a14:1e28"])
def test_a_refusal_does_not_tell_the_address_a_name_resolves_to(
    staff: APIClient, resolves_to: Any, address: str
) -> None:
    # given: a host name that resolves to a private address (and a public one)
    resolves_to("93.184.215.14", address)
    # when: staff register it
    response = staff.post("/api/webhooks/", {"url": f"https://{HOST}/hooks", "events": ["order.created"]})
    # then: refused, without saying what the name resolves to inside the network
    assert response.status_code == 400, response.json()
    assert response.json() == {"detail": URL_NOT_PUBLIC, "code": "webhook_url_not_public"}
    assert address not in response.content.decode() and "93.184.215.14" not in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
