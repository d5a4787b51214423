"""Password policy and storage (QUALITY A1, A2).

Policy follows ASVS 5.0 §6.2: at least 8 and at most 128 characters, any characters kept as typed
(spaces and emoji included), no composition rules, and refusal of commonly used passwords.
Hashes are argon2id with argon2-cffi's RFC 9106 parameters (m=64 MiB, t=3, p=4), upgraded on login.
The parameters come from PASSWORD_HASH_PARAMS (empty: those defaults; production refuses weaker than
ASVS's minimum, see Config.validate); the test configuration lowers them because the suite logs in
thousands of times — the A2 tests check the production parameters.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 8
MAX_LENGTH = 128
COMMON_LIST_SIZE = 3000


def _hasher() -> PasswordHasher:
    params = current_app.config.get("PASSWORD_HASH_PARAMS") if has_app_context() else None
    return _hasher_with(tuple(sorted((params or {}).items())))


@lru_cache(maxsize=4)
def _hasher_with(params: tuple) -> PasswordHasher:
    return PasswordHasher(
        **dict(params)
    )  # argon2id; defaults memory_cost=65536 KiB, time_cost=3, parallelism=4


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The most common passwords, from zxcvbn's frequency list (ranked by real breaches)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_LIST_SIZE])


def password_problem(password: str, *, email: str | None = None):
    """Return why the password is not acceptable (a translated message), or None if it is."""
    if len(password) < MIN_LENGTH:
        return _l("Use at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Use at most %(n)d characters.", n=MAX_LENGTH)
    lowered = password.lower()
    if lowered in _common_passwords():
        return _l("This password is too common and easy to guess. Choose another one.")
    if email and lowered == email.lower():
        return _l("Do not use your e-mail address as the password.")
    return None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Check a password against its stored hash without raising."""
    try:
        return _hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Say whether the hash was made with weaker parameters than today's (upgrade it on login)."""
    try:
        return _hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
