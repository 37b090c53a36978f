"""The sign-up serializer validates input only; whether the address is taken is the service's call."""

import pytest

from shop.accounts.serializers import UserCreateSerializer
from shop.accounts.tests.helpers import PASSWORD
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_sign_up_input_is_valid_whether_or_not_the_address_is_taken() -> None:
    # given
    UserFactory(email="taken@example.com")

    for address in ("Taken@Example.com", "free@example.com"):
        # when
        serializer = UserCreateSerializer(
            data={"email": address, "password": PASSWORD, "re_password": PASSWORD}
        )

        # then: no "already exists" field error that would tell; the address comes out as it is stored
        assert serializer.is_valid(), serializer.errors
        assert serializer.validated_data == {"email": address.lower(), "password": PASSWORD}
