"""Bearer tokens (SPEC §5): SimpleJWT's authentication, with the token's user read cheaply.

Every authenticated request reads its user: the token is only as good as the account
behind it (deleted, deactivated). SimpleJWT reads it through the ORM, which spent more
building that one query than the database spent answering it. Here the same row is
read through shop.accounts.store (a fixed statement on PostgreSQL); the checks after
it are SimpleJWT's own.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from shop.accounts.errors import AccountErrorCode
from shop.accounts.models import User
from shop.accounts.store import user_store


def user_get(*, user_id: Any) -> User | None:
    """The user with this id, or None: one indexed row, as ``User.objects.filter(pk=...).first()``."""
    try:
        pk = User._meta.pk.to_python(user_id)
    except ValidationError:  # a claim that is no id names no user
        return None
    return user_store().user_by_pk(pk)


class JWTAuthentication(authentication.JWTAuthentication):
    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]  # AuthUser is a TypeVar
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as e:
            raise InvalidToken(_("Token contained no recognizable user identification")) from e
        if User._meta.pk.name != api_settings.USER_ID_FIELD:  # the token names users otherwise
            return super().get_user(validated_token)  # type: ignore[return-value]
        user = user_get(user_id=user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code=AccountErrorCode.USER_NOT_FOUND)
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code=AccountErrorCode.USER_INACTIVE)
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                _("The user's password has been changed."), code=AccountErrorCode.PASSWORD_CHANGED
            )
        return user


class JWTScheme(SimpleJWTScheme):  # type: ignore[no-untyped-call]  # drf-spectacular's registry hook
    """The OpenAPI security scheme of SimpleJWT's class, for this one (``jwtAuth``, bearer)."""

    target_class = "shop.accounts.authentication.JWTAuthentication"
