"""Account-flow fixtures: mail through the real file transport, an inactive user."""

from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from shop.accounts.models import User
from shop.accounts.tests.helpers import Mailbox
from shop.tests.factories import UserFactory


@pytest.fixture
def mailbox(settings: Settings, tmp_path: Path) -> Mailbox:
    """Mail goes through Django's file backend, as ``EMAIL_URL=filemail:///dir`` configures."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    return Mailbox(tmp_path)


@pytest.fixture
def inactive_user(db: None) -> User:
    return UserFactory(is_active=False)
