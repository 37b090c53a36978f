"""Djoser wired to tickshop's user: e-mail login, refresh tokens ended on a new password."""

from typing import Any

from djoser.views import UserViewSet as DjoserUserViewSet
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from shop.accounts.services import user_revoke_refresh_tokens


class UserViewSet(DjoserUserViewSet):
    """Djoser's user endpoints; a password change or reset ends old refresh tokens (SPEC §5)."""

    @action(["post"], detail=False)
    def set_password(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().set_password(request, *args, **kwargs)
        user_revoke_refresh_tokens(user=request.user)
        return response

    @action(["post"], detail=False)
    def reset_password_confirm(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        response = super().reset_password_confirm(request, *args, **kwargs)
        user_revoke_refresh_tokens(user=serializer.user)
        return response
