# Separate from api.py: Djoser imports these while api.py imports Djoser's views.
from typing import Any

from django.db import IntegrityError
from djoser import serializers as djoser_serializers
from djoser.serializers import (
    SendEmailResetSerializer,
    UserCreatePasswordRetypeSerializer,
)
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from shop.accounts.models import User

EMAIL_TAKEN = "A user with this e-mail address already exists."


class UserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ("id", "email", "first_name", "last_name", "is_staff", "date_joined")
        read_only_fields = ("id", "email", "is_staff", "date_joined")


class UserCreateSerializer(UserCreatePasswordRetypeSerializer):
    """Djoser's sign-up, with the address unique whatever its case (it is stored lower-cased)."""

    email = serializers.EmailField(
        max_length=254,
        validators=[UniqueValidator(queryset=User.objects.all(), lookup="iexact", message=EMAIL_TAKEN)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Djoser adds re_password as a plain field; it is input only (the schema said it came back).
        self.fields["re_password"].write_only = True

    def validate_email(self, value: str) -> str:
        return User.objects.normalize_login(value)

    def create(self, validated_data: dict[str, Any]) -> User:
        try:
            user: User = self.perform_create(validated_data)
        except IntegrityError:
            # Lost a race with a sign-up for the same address: the same field error, not a bare list.
            raise serializers.ValidationError({"email": [EMAIL_TAKEN]}) from None
        return user


class EmailSerializer(SendEmailResetSerializer):
    """Djoser's e-mail lookup (reset_password, resend_activation), matching the address in any case."""

    def validate_email(self, value: str) -> str:
        return User.objects.normalize_login(value)


class UidIsTextMixin:
    """Djoser decodes ``uid`` from the raw input, which in JSON may be a number, a list, ...:
    anything but text is the invalid-uid field error, never a 500."""

    initial_data: Any
    error_messages: dict[str, str]

    def validate(self, attrs: dict[str, Any]) -> Any:
        if not isinstance(self.initial_data.get("uid", ""), str):
            raise serializers.ValidationError(
                {"uid": [self.error_messages["invalid_uid"]]}, code="invalid_uid"
            )
        return super().validate(attrs)


# Djoser's names, so the schema's components keep theirs (ActivationRequest, ...).
class ActivationSerializer(UidIsTextMixin, djoser_serializers.ActivationSerializer):
    pass


class PasswordResetConfirmSerializer(UidIsTextMixin, djoser_serializers.PasswordResetConfirmSerializer):
    pass
