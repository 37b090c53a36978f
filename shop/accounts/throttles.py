"""Abuse limits of the account endpoints, per client address and per e-mail address.

The limits are settings (THROTTLE_<ACTION>_PER_IP / _PER_IP_AND_EMAIL /
_PER_EMAIL, ``N/period``); the counting is shop.core.throttling's.

Every password check counts against one set of login limits, whatever the URL:
logins through the authentication backend (``shop.accounts.backends``: the JWT
login, the admin's, the browsable API's, any view that calls ``authenticate``),
and the checks of the current password (password change, account deletion)
through ``login_throttle`` and ``login_settle`` in the views. Logins count
failed attempts per client address, per (e-mail, client address), so a guesser
elsewhere cannot lock the owner out of their own address, plus a much higher
cap per e-mail address across all client addresses against guessing spread
over many of them; past that cap, a correct password from an address that has
logged in to the account before still gets through. A success takes its
e-mail-keyed hits back: a shopper who types the password right is never
limited by their own logins.
"""

import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis.exceptions import RedisError
from rest_framework.request import Request

from shop.core.errors import RateLimited
from shop.core.throttling import client_ip, throttle_hit, throttle_refund

logger = logging.getLogger(__name__)

MESSAGES = {
    "login": "Too many login attempts; try again later.",
    "register": "Too many sign-ups; try again later.",
    "password_reset": "Too many password reset requests; try again later.",
    "activation_resend": "Too many activation e-mails requested; try again later.",
}


def normalized_email(value: object) -> str:
    """An e-mail address as logins look it up (or "" when there is none)."""
    return value.strip().lower()[:254] if isinstance(value, str) else ""


def requested_email(request: Request) -> str:
    """The e-mail address a DRF request's body names, normalised as logins are (or "")."""
    data = request.data
    return normalized_email(data.get("email") if isinstance(data, Mapping) else None)


def _scopes(action: str, ip: str, email: str) -> list[tuple[str, str, str]]:
    """(scope, ident, setting) of each limit of ``action``; a limit whose setting is unset is off."""
    setting = f"THROTTLE_{action.upper()}"
    return [
        (f"{action}:ip", ip, f"{setting}_PER_IP"),
        (f"{action}:ip_email", f"{email}|{ip}" if email else "", f"{setting}_PER_IP_AND_EMAIL"),
        (f"{action}:email", email, f"{setting}_PER_EMAIL"),
    ]


def throttle_account_action(*, action: str, request: HttpRequest, email: str) -> None:
    """Count the request against every limit of ``action``; RateLimited (429) when one is over."""
    for scope, ident, setting in _scopes(action, client_ip(request), email):
        throttle_hit(scope=scope, ident=ident, setting=setting, message=MESSAGES[action])


def auth_throttle(*, action: str, request: Request) -> str:
    """Count a DRF request against the action's limits (429 when over); returns the address."""
    email = requested_email(request)
    throttle_account_action(action=action, request=request, email=email)
    return email


def login_throttle(*, request: HttpRequest, email: str) -> RateLimited | None:
    """Count a password check against the login limits before it is made: RateLimited (429)
    when the per-address limits are over. The per-e-mail cap is returned, not raised, when it
    is over: ``login_settle`` decides once the password has been checked."""
    over_email_cap = None
    for scope, ident, setting in _scopes("login", client_ip(request), email):
        try:
            throttle_hit(scope=scope, ident=ident, setting=setting, message=MESSAGES["login"])
        except RateLimited as exc:
            if scope != "login:email":
                raise
            over_email_cap = exc
    return over_email_cap


def login_settle(
    *, request: HttpRequest, email: str, succeeded: bool, over_email_cap: RateLimited | None
) -> None:
    """After the password check: a success takes back its e-mail-keyed hits and remembers the
    client's address for this e-mail. Past the per-e-mail cap only a correct password from an
    address that has logged in to this e-mail before gets through, so strangers spreading
    guesses over many addresses cannot lock the owner out, nor learn whether a guess was
    right (both answer 429)."""
    ip = client_ip(request)
    if over_email_cap is not None and not (succeeded and _known_address(email, ip)):
        raise over_email_cap
    if succeeded:
        for scope, ident, setting in _scopes("login", ip, email)[1:]:
            throttle_refund(scope=scope, ident=ident, setting=setting)
        _remember_address(email, ip)


def _known_key(email: str, ip: str) -> str:
    digest = hashlib.sha256(f"{email}|{ip}".encode()).hexdigest()[:32]  # no addresses in cache keys
    return f"tickshop:login-known:{digest}"


def _known_address(email: str, ip: str) -> bool:
    try:
        return bool(cache.get(_known_key(email, ip)))
    except RedisError:  # unknown then: the cap holds
        return False


def _remember_address(email: str, ip: str) -> None:
    try:
        cache.set(_known_key(email, ip), 1, timeout=settings.LOGIN_KNOWN_ADDRESS_SECONDS)
    except RedisError:
        logger.warning("login: the cache does not answer; the address is not remembered")


def current_password_check(*, request: HttpRequest, user: Any, password: str) -> bool:
    """Whether ``password`` is the logged-in ``user``'s, counted against the login limits like a
    login (a stolen access token must not become a way to guess the password)."""
    email = normalized_email(user.email)
    over_email_cap = login_throttle(request=request, email=email)
    correct = bool(user.check_password(password))
    login_settle(request=request, email=email, succeeded=correct, over_email_cap=over_email_cap)
    return correct
