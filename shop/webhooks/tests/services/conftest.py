"""Webhook service tests: rows only, unless a test sends to its own local receiver."""

import pytest
from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def _send_nothing(settings: Settings) -> None:
    """No kick schedules a sender: a test sends itself, or nothing goes."""
    settings.WEBHOOK_DELIVERY = "off"


@pytest.fixture
def local(settings: Settings) -> None:
    """The local receiver's plain-HTTP loopback address is allowed."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE = True
