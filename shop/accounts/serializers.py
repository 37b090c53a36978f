# Separate from api.py: Djoser imports these while api.py imports Djoser's views.
from typing import Any

from djoser.serializers import (
    ActivationSerializer as DjoserActivationSerializer,
)
from djoser.serializers import (
    PasswordResetConfirmSerializer as DjoserPasswordResetConfirmSerializer,
)
from djoser.serializers import SendEmailResetSerializer, UserCreatePasswordRetypeSerializer
from djoser.serializers import SetPasswordSerializer as DjoserSetPasswordSerializer
from djoser.serializers import UserDeleteSerializer as DjoserUserDeleteSerializer
from rest_framework import serializers

from shop.accounts.models import User
from shop.accounts.throttles import current_password_check


class UserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ("id", "email", "first_name", "last_name", "is_staff", "date_joined")
        read_only_fields = ("id", "email", "is_staff", "date_joined")


class UserCreateSerializer(UserCreatePasswordRetypeSerializer):
    """Djoser's sign-up input: e-mail, password (Django's validators) and its retype.

    Validation only: whether the address is taken is not checked here (a field
    error would tell); shop.accounts.services.user_register decides.
    """

    email = serializers.EmailField(max_length=254)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Djoser adds re_password as a plain field; it is input only (the schema said it came back).
        self.fields["re_password"].write_only = True

    def validate_email(self, value: str) -> str:
        return User.objects.normalize_login(value)


class RegisteredSerializer(serializers.Serializer):
    """The answer to a sign-up: the same whether or not the address already had an account."""

    email = serializers.EmailField(read_only=True, help_text="The address, as stored (lower case).")


class EmailSerializer(SendEmailResetSerializer):
    """Djoser's e-mail lookup (reset_password, resend_activation), matching the address in any case."""

    def validate_email(self, value: str) -> str:
        return User.objects.normalize_login(value)


class StrictCharField(serializers.CharField):
    """A string and nothing else (DRF's CharField turns numbers into strings)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


# Djoser decodes the raw input (initial_data), not the validated fields: a number as
# ``uid`` was a 500. Only strings get that far.
class ActivationSerializer(DjoserActivationSerializer):
    uid = StrictCharField()
    token = StrictCharField()


class PasswordResetConfirmSerializer(DjoserPasswordResetConfirmSerializer):
    uid = StrictCharField()
    token = StrictCharField()


class CurrentPasswordLimited:
    """Djoser's check of ``current_password``, counted against the login limits."""

    def validate_current_password(self, value: str) -> str:
        request = self.context["request"]  # type: ignore[attr-defined]
        if not current_password_check(request=request, user=request.user, password=value):
            self.fail("invalid_password")  # type: ignore[attr-defined]
        return value


class SetPasswordSerializer(CurrentPasswordLimited, DjoserSetPasswordSerializer):
    pass


class UserDeleteSerializer(CurrentPasswordLimited, DjoserUserDeleteSerializer):
    pass
