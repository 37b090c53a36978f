"""Abuse limits of the account endpoints, per client address and per e-mail address.

The limits are settings (THROTTLE_<ACTION>_PER_IP / _PER_EMAIL, ``N/period``);
the counting is shop.core.throttling's. Logins count failed attempts per
e-mail address (a success takes its hit back), so a shopper who types the
password right is never locked out by their own logins, while guessing one
account's password is slowed to the configured pace from any number of
addresses.
"""

from collections.abc import Mapping

from rest_framework.request import Request

from shop.core.throttling import client_ip, throttle_hit, throttle_refund

MESSAGES = {
    "login": "Too many login attempts; try again later.",
    "register": "Too many sign-ups; try again later.",
    "password_reset": "Too many password reset requests; try again later.",
    "activation_resend": "Too many activation e-mails requested; try again later.",
}


def requested_email(request: Request) -> str:
    """The e-mail address a request names, normalised as logins are (or "")."""
    data = request.data
    value = data.get("email") if isinstance(data, Mapping) else None
    return value.strip().lower()[:254] if isinstance(value, str) else ""


def auth_throttle(*, action: str, request: Request) -> str:
    """Count the request against the action's limits (429 when over); returns the address."""
    message = MESSAGES[action]
    setting = f"THROTTLE_{action.upper()}"
    throttle_hit(scope=f"{action}:ip", ident=client_ip(request), setting=f"{setting}_PER_IP", message=message)
    email = requested_email(request)
    throttle_hit(scope=f"{action}:email", ident=email, setting=f"{setting}_PER_EMAIL", message=message)
    return email


def login_succeeded(*, email: str) -> None:
    throttle_refund(scope="login:email", ident=email, setting="THROTTLE_LOGIN_PER_EMAIL")
