"""Password hashing: Argon2id (argon2-cffi) with OWASP's recommended minimum for Argon2id:
19 MiB of memory, 2 passes, 1 lane. RFC 9106's "low memory" profile (64 MiB) would push the
console's peak memory past 100 MB at every login on a box whose console should stay near
60 MB; a stored hash carries its parameters, so raising them later re-hashes at next login."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import Type

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)

MIN_LENGTH = 10

#: verified when an account does not exist, so that a wrong name costs as long as a wrong password
_DUMMY = _hasher.hash("sms1708-no-such-account")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def weakness(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters, please"
    if len(set(password)) < 4:
        return "too repetitive"
    return None
