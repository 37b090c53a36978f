"""Account e-mails: rendered and sent outside the request, from ids (SPEC §5).

Djoser builds its e-mails in the request and sends them there, so the answer
waits for the mail server and its timing tells whether an address has an
account. Here Djoser's ``EMAIL`` classes are replaced by ``Deferred*`` ones
that only note (kind, user id); ``account_email_schedule`` hands that to the
worker (stack mode) or a background thread (embedded mode) after the transaction
commits (``shop.core.enqueue``), and ``shop.accounts.services.account_email_send``
renders the e-mail there, with the user as the database has them then, through
the classes in ``RENDERERS``.
"""

from enum import StrEnum
from typing import Any, ClassVar

from django.conf import settings
from djoser import email as djoser_email

from shop.core.enqueue import enqueue_after_commit

# shop.accounts.tasks.account_email_send_task, named as the broker names it: that task calls the
# services, which schedule e-mails through this module.
ACCOUNT_EMAIL_SEND_TASK = "accounts.account_email_send"


class AccountEmail(StrEnum):
    ACTIVATION = "activation"
    CONFIRMATION = "confirmation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind of e-mail, not a password
    PASSWORD_CHANGED = "password_changed_confirmation"  # noqa: S105
    SIGNUP_ATTEMPT = "signup_attempt"  # someone tried to register with the address of an active account


class ActivationEmail(djoser_email.ActivationEmail):  # type: ignore[misc]
    """Djoser's activation e-mail (link, token), telling that each sign-up replaces the password."""

    template_name = "accounts/email/activation.html"


class SignupAttemptEmail(djoser_email.BaseDjoserEmail):  # type: ignore[misc]
    """To the owner of an active account someone tried to register again. (A sign-up of an inactive
    account takes the new password and gets the activation e-mail: shop.accounts.services.user_register.)"""

    template_name = "accounts/email/signup_attempt.html"


RENDERERS: dict[AccountEmail, type[djoser_email.BaseDjoserEmail]] = {
    AccountEmail.ACTIVATION: ActivationEmail,
    AccountEmail.CONFIRMATION: djoser_email.ConfirmationEmail,
    AccountEmail.PASSWORD_RESET: djoser_email.PasswordResetEmail,
    AccountEmail.PASSWORD_CHANGED: djoser_email.PasswordChangedConfirmationEmail,
    AccountEmail.SIGNUP_ATTEMPT: SignupAttemptEmail,
}


def account_email_schedule(*, kind: AccountEmail, user_id: int) -> None:
    """Send an account e-mail once the current transaction commits, outside the request.

    ``EMAIL_DELIVERY=celery`` (stack mode) queues a task for the worker;
    ``thread`` (embedded mode) sends it from a background thread of this
    process. Either way the answer never waits for the mail server, and the
    e-mail is rendered there from the user's id, as the database has them then.
    """
    enqueue_after_commit(ACCOUNT_EMAIL_SEND_TASK, str(kind), user_id, via=settings.EMAIL_DELIVERY)


class DeferredEmail:
    """What Djoser's views see as an e-mail class (``cls(request, context).send(to)``): sending it
    schedules the e-mail of ``kind`` for the context's user, to go out after commit."""

    kind: ClassVar[AccountEmail]

    def __init__(self, request: Any = None, context: dict[str, Any] | None = None, *args: Any, **kwargs: Any):
        self.user_id: int = (context or {})["user"].pk

    def send(self, to: list[str], *args: Any, **kwargs: Any) -> None:
        account_email_schedule(kind=self.kind, user_id=self.user_id)  # to the user's address, as Djoser's


class DeferredActivationEmail(DeferredEmail):
    kind = AccountEmail.ACTIVATION


class DeferredConfirmationEmail(DeferredEmail):
    kind = AccountEmail.CONFIRMATION


class DeferredPasswordResetEmail(DeferredEmail):
    kind = AccountEmail.PASSWORD_RESET


class DeferredPasswordChangedEmail(DeferredEmail):
    kind = AccountEmail.PASSWORD_CHANGED
