"""Account e-mails leave after commit, outside the request: from the Celery worker in stack mode,
from a background thread of the web process in embedded mode. The answer never waits for them."""

from pathlib import Path

import pytest
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from config.celery import app
from shop.accounts.emails import AccountEmail
from shop.accounts.models import User
from shop.accounts.services import account_email_send
from shop.accounts.tests.helpers import (
    HeldSmtpServer,
    Mailbox,
    activation_credentials,
    register,
    reset_credentials,
    wait_for_mail,
)
from shop.tests.factories import UserFactory
from shop.tests.live import celery, service_env, wait_until

pytestmark = pytest.mark.django_db(transaction=True)  # e-mails leave after commit

NEW = "new.shopper@example.com"


@pytest.mark.slow
def test_stack_mode_sends_account_emails_from_the_celery_worker(settings: Settings, tmp_path: Path) -> None:
    # given: stack mode, an account, and no worker running yet
    settings.EMAIL_DELIVERY = "celery"
    app.control.purge()  # nothing left in the queue by earlier tests
    owner = UserFactory(email="owner@example.com")
    anon = APIClient()

    # when: a new address signs up, the owner's address is signed up again, the owner asks for a reset
    answers = [
        register(anon, NEW).status_code,
        register(anon, owner.email).status_code,
        anon.post("/auth/users/reset_password/", {"email": owner.email}, format="json").status_code,
    ]

    # then: all answered, and nothing was sent: the e-mails wait in the queue for a worker
    assert answers == [201, 201, 204]
    mailbox = Mailbox(tmp_path / "mail")
    assert mailbox.messages() == []

    # when: a worker starts, writing mail to files (EMAIL_URL=filemail://)
    env = service_env(EMAIL_URL=f"filemail:///{tmp_path / 'mail'}")
    with celery("worker", env, tmp_path / "worker.log"):
        (activation,) = wait_for_mail(mailbox, NEW)
        to_owner = {m["Subject"]: m for m in wait_for_mail(mailbox, owner.email, count=2)}

    # then: the worker rendered each e-mail from the user's id; their links work
    worker_log = (tmp_path / "worker.log").read_text()
    assert worker_log.count("accounts.account_email_send") >= 3, worker_log
    credentials = activation_credentials(activation)
    assert anon.post("/auth/users/activation/", credentials, format="json").status_code == 204
    assert User.objects.get(email=NEW).is_active
    assert set(to_owner) == {
        "Someone tried to register with your address on tickshop",
        "Password reset on tickshop",
    }
    reset_credentials(to_owner["Password reset on tickshop"])


def test_embedded_mode_answers_before_the_mail_server_does(settings: Settings) -> None:
    # given: embedded mode's delivery, through a mail server that holds every connection
    server = HeldSmtpServer()
    settings.EMAIL_DELIVERY = "thread"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        # when
        response = register(APIClient(), NEW)

        # then: answered, while the activation e-mail is stuck at the mail server
        assert response.status_code == 201
        assert server.connected.wait(timeout=30), "the e-mail never left"
        assert server.messages == []

        # when: the mail server answers
        server.release()

        # then: the e-mail goes out, with its working link
        wait_until(lambda: server.messages, timeout=30)
    finally:
        server.close()
    (message,) = server.messages
    assert message["To"] == NEW
    credentials = activation_credentials(message)
    assert APIClient().post("/auth/users/activation/", credentials, format="json").status_code == 204


def test_an_email_is_rendered_from_the_user_as_they_are_when_it_is_sent(mailbox: Mailbox) -> None:
    # given
    active, gone = UserFactory(), UserFactory(is_active=False)
    gone_id = gone.id
    gone.delete()

    # when / then: an activation e-mail for an account activated meanwhile, or one deleted, is not sent
    assert account_email_send(kind=AccountEmail.ACTIVATION, user_id=active.id) is False
    assert account_email_send(kind=AccountEmail.PASSWORD_RESET, user_id=gone_id) is False
    assert mailbox.messages() == []
    # and a reset e-mail for the active one is
    assert account_email_send(kind=AccountEmail.PASSWORD_RESET, user_id=active.id) is True
    assert [m["To"] for m in mailbox.messages()] == [active.email]
