"""Reads of accounts that other apps need."""

from rest_framework.exceptions import AuthenticationFailed

from shop.accounts.authentication import JWTAuthentication

_authentication = JWTAuthentication()


def user_id_of_access_token(token: str) -> int | None:
    """The id of the active user this access token was issued to, or None when it is no such
    token: malformed, badly signed, expired, of another kind (a refresh token), or of a user
    who is gone or inactive.

    The checks are the API's own (SimpleJWT's, through shop.accounts.authentication), so a
    token is good here exactly when it is good in ``Authorization: Bearer``.
    """
    try:
        user = _authentication.get_user(_authentication.get_validated_token(token.encode()))
    except AuthenticationFailed:  # SimpleJWT's InvalidToken and AuthenticationFailed
        return None
    return int(user.pk)
