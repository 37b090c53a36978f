"""No server-side request forgery: webhooks go to public https addresses only.

A URL is checked when it is registered and again before every delivery (DNS
answers change). The delivery then connects to the very address that was
checked, so a name that resolves to a public address for the check and to a
private one a moment later (DNS rebinding) cannot steer it. Redirects are
never followed.

An IPv6 address that carries an IPv4 one (IPv4-mapped, NAT64, 6to4, the old
IPv4-compatible form) reaches that IPv4 address through a translator or tunnel,
so it is judged by the address it carries. A refusal does not say which
address a name resolved to: whoever registers URLs would otherwise learn the
answers of the shop's internal DNS, one name at a time (the log keeps it).
"""

import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from shop.core.errors import ValidationError
from shop.webhooks.errors import WebhookErrorCode

URL_NOT_HTTPS = "Webhook URLs must use https."
URL_INVALID = "Enter a valid http(s) URL with a host name."
URL_NOT_RESOLVED = "The webhook URL's host name does not resolve."
URL_NOT_PUBLIC = "The webhook URL resolves to an address that is not public."
URL_HAS_CREDENTIALS = "Webhook URLs must not carry a user name or password."

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

logger = logging.getLogger(__name__)

# IPv6 prefixes whose last 32 bits are an IPv4 address that the packets reach.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291, deprecated: ::a.b.c.d
# RFC 8215: NAT64 prefixes for local use, whose IPv4 part sits where the network's own
# prefix length puts it; never public, whatever it carries (Python counts them global).
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


@dataclass(frozen=True)
class Target:
    """Where one delivery goes: the URL's parts and the address checked for it."""

    scheme: str
    host: str
    port: int
    path: str  # with the query string
    address: str


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to, when it carries one."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:  # 2002::/16
        return address.sixtofour
    if address in NAT64 or address in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64_LOCAL:
            return False
        address = _embedded_ipv4(address) or address
    return address.is_global and not address.is_multicast


def url_target(url: str) -> Target:
    """Check ``url`` against the settings and resolve it; raises ValidationError when refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(URL_INVALID, code=WebhookErrorCode.URL_INVALID) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(URL_INVALID, code=WebhookErrorCode.URL_INVALID)
    if parts.username or parts.password:
        raise ValidationError(URL_HAS_CREDENTIALS, code=WebhookErrorCode.URL_INVALID)
    if parts.scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise ValidationError(URL_NOT_HTTPS, code=WebhookErrorCode.URL_NOT_HTTPS)
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ValidationError(URL_NOT_RESOLVED, code=WebhookErrorCode.URL_UNRESOLVED) from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise ValidationError(URL_NOT_RESOLVED, code=WebhookErrorCode.URL_UNRESOLVED)
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        # Every address the name has must be public, not just the first: which one a
        # later connection would take is not ours to choose.
        for address in addresses:
            if not _is_public(address):
                logger.warning("webhook URL refused: %s resolves to %s", parts.hostname, address)
                raise ValidationError(URL_NOT_PUBLIC, code=WebhookErrorCode.URL_NOT_PUBLIC)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=parts.scheme, host=parts.hostname, port=port, path=path, address=str(addresses[0]))
