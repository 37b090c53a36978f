"""Webhook test fixtures: rows only unless a test sends to its own local receiver."""

import pytest
from pytest_django.fixtures import Settings


@pytest.fixture
def send_nothing(settings: Settings) -> None:
    """Rows only: no kick schedules a sender (tests register public addresses, and nothing may
    ever be sent to them); a test that sends does it itself."""
    settings.WEBHOOK_DELIVERY = "off"


@pytest.fixture
def local_ok(settings: Settings) -> None:
    """A local receiver's plain-HTTP loopback address is allowed."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE = True
