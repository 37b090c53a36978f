"""The codes of the accounts' errors: the ``code`` of an error answer, stable for clients.

Djoser and Simple JWT name their own (``token_not_valid``, ...); these are the shop's.
"""

from enum import StrEnum


class AccountErrorCode(StrEnum):
    USER_NOT_FOUND = "user_not_found"
    USER_INACTIVE = "user_inactive"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a code, not a password
