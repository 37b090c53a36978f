from django.db import transaction

from shop.accounts.models import User


@transaction.atomic
def user_ensure_staff(*, email: str, password: str) -> User:
    """Create (or promote) the staff account named by ADMIN_EMAIL/ADMIN_PASSWORD."""
    email = User.objects.normalize_login(email)
    user = User.objects.filter(email=email).first()
    if user is None:
        return User.objects.create_superuser(email, password)
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    return user


def user_revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``; returns how many."""
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    tokens = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in tokens], ignore_conflicts=True
    )
    return len(created)
