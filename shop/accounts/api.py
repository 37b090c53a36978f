"""Djoser wired to tickshop's user: e-mail login, refresh tokens ended on a new password."""

from typing import Any, cast

from django.db import transaction
from djoser.views import UserViewSet as DjoserUserViewSet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework_simplejwt.views import TokenBlacklistView

from shop.accounts.models import User
from shop.accounts.serializers import EmailSerializer, RegisteredSerializer, UserCreateSerializer
from shop.accounts.services import user_register, user_revoke_refresh_tokens
from shop.accounts.throttles import auth_throttle


@extend_schema(
    summary="Log out",
    description=(
        "Blacklists the refresh token: it can never be used again (refresh answers 401). The access "
        "token issued with it stays valid until it expires (15 minutes at most); drop it too."
    ),
    responses={
        200: OpenApiResponse(
            response={"type": "object", "properties": {}, "additionalProperties": False},
            description="Logged out: the refresh token is dead.",
        )
    },
)
class LogoutView(TokenBlacklistView):
    """``POST /auth/jwt/blacklist/ {refresh}``: SimpleJWT's blacklist view (SPEC §5)."""


NO_CONTENT = {204: OpenApiResponse(description="Done (the same answer whether or not the address exists).")}


@extend_schema_view(
    activation=extend_schema(responses=NO_CONTENT),
    resend_activation=extend_schema(responses=NO_CONTENT),
    reset_password=extend_schema(responses=NO_CONTENT),
    reset_password_confirm=extend_schema(responses=NO_CONTENT),
    set_password=extend_schema(responses=NO_CONTENT),
)
class UserViewSet(DjoserUserViewSet):
    """Djoser's user endpoints; a password change or reset ends old refresh tokens (SPEC §5)."""

    # The address is the login and read-only (SPEC §5): no set_email / reset_email endpoints.
    set_username = None
    reset_username = None
    reset_username_confirm = None

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action == "create":
            return UserCreateSerializer
        if self.action in ("reset_password", "resend_activation"):
            return EmailSerializer
        serializer_class: type[BaseSerializer[Any]] = super().get_serializer_class()
        return serializer_class

    # Sign-up and the two e-mails anyone can ask for sit behind the abuse limits.
    @extend_schema(
        request=UserCreateSerializer,
        responses={201: RegisteredSerializer},
        description=(
            "Signs up an address. The answer is the same whether or not the address already has an "
            "account (it does not tell who has one): a new address gets the activation e-mail, a taken "
            "one an e-mail to its owner saying someone tried to register with it."
        ),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        auth_throttle(action="register", request=request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        user_register(email=email, password=serializer.validated_data["password"])
        return Response(RegisteredSerializer({"email": email}).data, status=status.HTTP_201_CREATED)

    @action(["post"], detail=False)
    def reset_password(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        auth_throttle(action="password_reset", request=request)
        response: Response = super().reset_password(request, *args, **kwargs)
        return response

    @action(["post"], detail=False)
    def resend_activation(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        auth_throttle(action="activation_resend", request=request)
        response: Response = super().resend_activation(request, *args, **kwargs)
        return response

    def permission_denied(
        self, request: Request, message: str | None = None, code: str | None = None
    ) -> None:
        # Djoser's HIDE_USERS answers 404 for another user's record except on DELETE; close that gap
        # so a shopper cannot tell which ids exist.
        if request.user.is_authenticated and self.action == "destroy":
            raise NotFound
        super().permission_denied(request, message=message, code=code)

    def get_object(self) -> User:
        # /users/me/ names no id: Djoser swaps get_object only inside its ``me`` handler, and
        # OPTIONS (DRF's metadata) asked for the object without it: a 500.
        if self.lookup_field not in self.kwargs:
            return cast(User, self.get_instance())
        user: User = super().get_object()
        return user

    def perform_destroy(self, instance: User) -> None:
        with transaction.atomic():
            user_revoke_refresh_tokens(user=instance)
            super().perform_destroy(instance)

    # The new password and the end of the old refresh tokens land together or not at all.
    @action(["post"], detail=False)
    def set_password(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            response: Response = super().set_password(request, *args, **kwargs)
            user_revoke_refresh_tokens(user=cast(User, request.user))  # the action requires a login
        return response

    @action(["post"], detail=False)
    def reset_password_confirm(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            response: Response = super().reset_password_confirm(request, *args, **kwargs)
            user_revoke_refresh_tokens(user=serializer.user)
        return response
