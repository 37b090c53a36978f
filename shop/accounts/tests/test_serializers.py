"""The sign-up serializer's uniqueness holds even when another sign-up wins the race."""

import pytest
from rest_framework.exceptions import ValidationError

from shop.accounts.models import User
from shop.accounts.serializers import EMAIL_TAKEN, UserCreateSerializer
from shop.accounts.tests.helpers import PASSWORD
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_sign_up_that_loses_the_race_gets_the_email_field_error() -> None:
    # given: validated while the address was free
    data = {"email": "Race@Example.com", "password": PASSWORD, "re_password": PASSWORD}
    serializer = UserCreateSerializer(data=data)
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["email"] == "race@example.com"

    # when: someone else takes it before the save
    UserFactory(email="race@example.com")
    with pytest.raises(ValidationError) as raised:
        serializer.save()

    # then
    assert raised.value.detail == {"email": [EMAIL_TAKEN]}
    assert User.objects.filter(email="race@example.com").count() == 1
