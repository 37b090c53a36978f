from django.db import transaction

from shop.accounts.models import User


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
