"""argon2id password hashing and the password rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from softdukan.platform.errors import Invalid

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_LENGTH = 10
_COMMON = {"password12", "1234567890", "qwertyuiop", "password123", "welcome123", "iloveyou12",
           "123456789a", "adminadmin", "letmein123", "abcdefghij"}
# A dummy hash so a sign-in for an unknown e-mail costs the same time as a wrong password.
_DUMMY = _hasher.hash("dummy-password-for-timing")


def check_strength(password: str, *, email: str = "", name: str = "") -> None:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > 200:
        problems.append("Use at most 200 characters.")
    if password.lower() in _COMMON or len(set(password)) < 4:
        problems.append("This password is too common or too simple.")
    local = email.split("@")[0].lower()
    if local and len(local) >= 4 and local in password.lower():
        problems.append("Don't use your e-mail address in the password.")
    if problems:
        raise Invalid("weak_password", " ".join(problems), {"password": " ".join(problems)})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
