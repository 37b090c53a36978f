import logging

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import IntegrityError, transaction

from shop.accounts.emails import RENDERERS, AccountEmail, account_email_schedule
from shop.accounts.models import User

logger = logging.getLogger(__name__)


@transaction.atomic
def user_create_staff_once(*, email: str, password: str) -> bool:
    """Create the staff account named by ADMIN_EMAIL/ADMIN_PASSWORD unless the address has an
    account already, which is left as it is (its owner may have changed the password since).
    Returns whether it was created."""
    email = User.objects.normalize_login(email)
    if User.objects.filter(email=email).exists():
        return False
    User.objects.create_superuser(email, password)
    return True


def user_revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``; returns how many."""
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    tokens = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in tokens], ignore_conflicts=True
    )
    return len(created)


@transaction.atomic
def user_password_set(*, user: User, password: str | None) -> None:
    """Give ``user`` a new password (None: none, password logins off) and end every refresh
    token issued under the old one, together or not at all (SPEC §5: a changed password ends
    the old sessions), whichever door changed it."""
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    user_revoke_refresh_tokens(user=user)


def user_register(*, email: str, password: str) -> None:
    """Sign up an address without telling whether it already has an account (SPEC §5).

    Whoever proves the mailbox sets the password:

    - a new address gets an inactive user with this password and the activation e-mail;
    - an address whose account is still inactive gets this password in place of the one before
      and a fresh activation e-mail. Activation tokens hash the password in (Django's
      ``default_token_generator``, which Djoser's activation checks), so every link sent
      before is dead: someone who signed up an address that is not theirs cannot have its
      owner activate the account with their password;
    - an active account (the address is stored lower-cased, so any case) is left as it is,
      and its owner gets an e-mail saying someone tried to register with it.

    The caller answers all three alike. Every path hashes the password, the costly part, and
    the e-mails go out after commit, outside the request, so neither the answer nor its timing
    tells them apart. Concurrent sign-ups of one address make one user: the unique index
    decides, and the losers take the path of an existing account, whose row they lock, so
    they take turns and the last one's password stands. (Activation mails are rendered when
    sent, so their tokens match the password then; all of them go to the address itself.)
    """
    email = User.objects.normalize_login(email)
    password_hash = make_password(password)  # on every path: the same work whoever owns the address
    with transaction.atomic():
        owner = User.objects.select_for_update().filter(email=email).first()
        if owner is None:
            try:
                with transaction.atomic():
                    user = User.objects.create(email=email, password=password_hash, is_active=False)
            except IntegrityError:
                # A concurrent sign-up committed this address first (PostgreSQL made this insert wait
                # for it); its row is visible to the next statement.
                owner = User.objects.select_for_update().get(email=email)
            else:
                account_email_schedule(kind=AccountEmail.ACTIVATION, user_id=user.pk)
                return
        if owner.is_active:
            account_email_schedule(kind=AccountEmail.SIGNUP_ATTEMPT, user_id=owner.pk)
            return
        owner.password = password_hash
        owner.save(update_fields=["password"])
        account_email_schedule(kind=AccountEmail.ACTIVATION, user_id=owner.pk)


# --- Account e-mails ------------------------------------------------------------------------------


def account_email_send(*, kind: AccountEmail | str, user_id: int) -> bool:
    """Render the account e-mail ``kind`` for the user as they are now, and send it.

    False when there is nothing to send: the user is gone, or an activation
    e-mail finds the account already active.
    """
    kind = AccountEmail(kind)
    user = User.objects.filter(pk=user_id).first()
    if user is None or (kind is AccountEmail.ACTIVATION and user.is_active):
        logger.info("account e-mail %s to user %s: nothing to send", kind, user_id)
        return False
    RENDERERS[kind](None, {"user": user}).send([user.email])
    logger.info("account e-mail %s sent to user %s", kind, user_id)
    return True


def tokens_flush_expired() -> None:
    """Delete the refresh tokens past their expiry (and their blacklist rows): SimpleJWT's
    ``flushexpiredtokens``, so the token tables do not grow without end."""
    call_command("flushexpiredtokens")
