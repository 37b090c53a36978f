"""Abuse limits of the account endpoints, per client address and per e-mail address.

The limits are settings (THROTTLE_<ACTION>_PER_IP / _PER_IP_AND_EMAIL /
_PER_EMAIL, ``N/period``); the counting is shop.core.throttling's.

Every password login — ``/auth/jwt/create/``, ``/admin/login/`` and the
browsable API's ``/api-auth/login/`` — goes through ``login_throttle`` and
``login_succeeded`` here, so one set of counters covers all three. Logins
count failed attempts per (e-mail, client address), so a guesser elsewhere
cannot lock the owner out of their own address, plus a much higher cap per
e-mail address across all client addresses against guessing spread over many
of them. A success takes its hits back: a shopper who types the password right
is never limited by their own logins.
"""

import functools
from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponseBase, JsonResponse
from rest_framework.request import Request

from shop.core.errors import RateLimited
from shop.core.throttling import client_ip, throttle_hit, throttle_refund

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


def login_throttle(*, request: HttpRequest, email: str) -> None:
    throttle_account_action(action="login", request=request, email=email)


def login_succeeded(*, request: HttpRequest, email: str) -> None:
    """Take back the e-mail-keyed hits of a login that succeeded (the per-address one stays)."""
    for scope, ident, setting in _scopes("login", client_ip(request), email)[1:]:
        throttle_refund(scope=scope, ident=ident, setting=setting)


def rate_limited_response(exc: RateLimited) -> HttpResponseBase:
    """The 429 of a plain Django view, shaped like the API's (shop.core.errors.exception_handler)."""
    response = JsonResponse(exc.body(), status=exc.status_code)
    response["Retry-After"] = str(exc.retry_after)
    return response


def throttled_login(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A Django form login (the admin's, the browsable API's) behind the limits of the JWT login."""

    @functools.wraps(view)
    def login(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        email = normalized_email(request.POST.get("username"))  # AuthenticationForm's name for the login
        try:
            login_throttle(request=request, email=email)
        except RateLimited as exc:
            return rate_limited_response(exc)
        response = view(request, *args, **kwargs)
        # Django's LoginView redirects a POST only once the form is valid and the user logged in.
        if response.status_code == 302 and request.user.is_authenticated:
            login_succeeded(request=request, email=email)
        return response

    return login
