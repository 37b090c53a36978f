"""Account-flow fixtures: mail through the real file transport, an inactive user."""

from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from shop.accounts.models import User
from shop.accounts.tests.helpers import Mailbox
from shop.tests.factories import UserFactory


@pytest.fixture
def mailbox(settings: Settings, tmp_path: Path, celery_eager: None) -> Mailbox:
    """Mail goes through Django's file backend, as ``EMAIL_URL=filemail:///dir`` configures.

    Account e-mails leave after commit (tests using this need ``transaction=True``) through the
    e-mail task, run here in the test's own process; test_email_delivery.py uses a real worker.
    """
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.EMAIL_DELIVERY = "celery"
    return Mailbox(tmp_path)


@pytest.fixture
def inactive_user(db: None) -> User:
    return UserFactory(is_active=False)
