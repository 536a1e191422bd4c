"""Password logins for `microgpt-tui serve --password-file FILE`: scrypt hashes, one user a line.

    # comments and blank lines are kept as they are
    alice:scrypt$16384$8$1$<salt, base64>$<hash, base64>

scrypt is a memory-hard KDF in the standard library (hashlib): each guess costs 16 MiB and tens
of milliseconds. Hashes are compared in constant time, and a login with an unknown user name
runs the same scrypt on a dummy hash, so timing does not tell which user names exist.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterator
from pathlib import Path

from ..files import WriteRefused, atomic_write_bytes, ensure_writable_target, read_user_file

SCHEME = "scrypt"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # 16 MiB a guess: OWASP's scrypt minimum and more
SALT_BYTES = 16
HASH_BYTES = 32
# A stored line may carry its own costs (a file from elsewhere, or written for a faster or
# slower machine); costs past these would let one login attempt stall the server.
MAX_N, MAX_R, MAX_P = 2**20, 32, 16
MAX_SCRYPT_MEMORY = 256 * 2**20
MAX_PASSWORD_CHARS = 1024
MAX_USER_CHARS = 64
PASSWORD_FILE_MAX_BYTES = 1 * 2**20
# What an unknown user's attempt is checked against: a hash of a random password that was
# thrown away, with the default costs (the costs every hash written here uses).
_DUMMY_HASH = (
    "scrypt$16384$8$1$RYHytPvzfkbs+EfMd7DyDA==$+vPw5WNZHfO00Qv/3zglMzDAyd8GVYJ93mOJiRgsGS4="
)


class PasswordFileError(ValueError):
    """A password file, user name or password that cannot be used: one line saying why."""


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # maxmem: OpenSSL's own need for these costs (its default, 32 MiB, refuses r = 16).
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=128 * r * (n + p + 2) + 2**20)


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash` for `password`, with a fresh random salt."""
    check_password_text(password)
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES)
    return "$".join([SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def verify_password(stored: str, password: str) -> bool:
    """Whether `password` matches a stored hash; False for a malformed one (never raises)."""
    try:
        n, r, p, salt, expected = _parse_stored(stored)
    except ValueError:
        return False
    if len(password) > MAX_PASSWORD_CHARS:  # refused by length, not by hashing a megabyte
        return False
    return hmac.compare_digest(_scrypt(password, salt, n, r, p, len(expected)), expected)


def check_login(passwords: dict[str, str], user: str, password: str) -> bool:
    """Whether `user` may log in with `password`. An unknown user costs the same scrypt as a
    known one with a wrong password."""
    ok = verify_password(passwords.get(user, _DUMMY_HASH), password)
    return ok and user in passwords


def check_password_text(password: str) -> None:
    """PasswordFileError unless `password` is 1 to MAX_PASSWORD_CHARS characters."""
    if not password:
        raise PasswordFileError("the password is empty")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordFileError(f"the password is longer than {MAX_PASSWORD_CHARS} characters")


def check_user_name(user: str) -> None:
    """PasswordFileError unless `user` fits on a password line: printable, no spaces or ':'."""
    if not user or len(user) > MAX_USER_CHARS:
        raise PasswordFileError(f"a user name is 1 to {MAX_USER_CHARS} characters")
    if ":" in user or not user.isprintable() or any(char.isspace() for char in user):
        raise PasswordFileError(f"user name {user!r}: no ':', spaces or control characters")


def load_password_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """{user: stored hash} from a password file; PasswordFileError naming the file and line of
    the first problem (an unreadable file, a malformed line, a user listed twice)."""
    users: dict[str, str] = {}
    for _, user, stored in _lines(_read(path), path):
        if user is not None:
            users[user] = stored
    return users


def set_password(path: str | os.PathLike[str], user: str, password: str) -> None:
    """Add `user` or change their password in the file (created if missing), written atomically
    and readable by its owner only (0600). The other lines stay as they were."""
    check_user_name(user)
    line = f"{user}:{hash_password(password)}"
    target = Path(path).expanduser()
    lines: list[str] = []
    replaced = False
    if target.exists():
        for text, name, _ in _lines(_read(target), target):
            lines.append(line if name == user else text)
            replaced = replaced or name == user
    if not replaced:
        lines.append(line)
    try:
        ensure_writable_target(target)
        if target.exists():  # atomic_write_bytes keeps the old mode: make that 0600 first
            os.chmod(target, 0o600)
        atomic_write_bytes(target, ("\n".join(lines) + "\n").encode("utf-8"))  # new: 0600
    except OSError as error:
        why = error.why if isinstance(error, WriteRefused) else error.strerror or str(error)
        raise PasswordFileError(f"{target}: cannot write ({why})") from None


def _read(path: str | os.PathLike[str]) -> str:
    data = read_user_file(
        path, expected="a password file", max_bytes=PASSWORD_FILE_MAX_BYTES,
        error=PasswordFileError,
        too_large=lambda p, size: PasswordFileError(
            f"{p}: {size:,} bytes is too large for a password file"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PasswordFileError(f"{path}: not UTF-8 text (byte offset {error.start})") from None


def _lines(text: str, path: str | os.PathLike[str]) -> Iterator[tuple[str, str | None, str]]:
    """(line as written, user or None, stored hash) for each line; blank lines and # comments
    have no user. PasswordFileError names the line of the first problem."""
    first_line: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.strip()
        if not content or content.startswith("#"):
            yield raw, None, ""
            continue
        user, separator, stored = content.partition(":")
        try:
            if not separator:
                raise PasswordFileError("expected user:scrypt$n$r$p$salt$hash")
            check_user_name(user)
            _parse_stored(stored)
        except (PasswordFileError, ValueError) as problem:
            raise PasswordFileError(f"{path}: line {number}: {problem}") from None
        if user in first_line:
            raise PasswordFileError(f"{path}: line {number}: user {user!r} is already on line "
                                    f"{first_line[user]}")
        first_line[user] = number
        yield raw, user, stored


def _parse_stored(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """(n, r, p, salt, hash) of `scrypt$n$r$p$salt$hash`; ValueError saying what is wrong."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise ValueError("expected a hash scrypt$n$r$p$salt$hash")
    if not all(part.isascii() and part.isdigit() and len(part) <= 8 for part in parts[1:4]):
        raise ValueError("scrypt's n, r and p must be whole numbers")
    n, r, p = (int(part) for part in parts[1:4])
    if not (2 <= n <= MAX_N and n & (n - 1) == 0 and 1 <= r <= MAX_R and 1 <= p <= MAX_P
            and 128 * r * n <= MAX_SCRYPT_MEMORY):
        raise ValueError(f"scrypt costs n={n} r={r} p={p} are out of range "
                         f"(n a power of two up to 2^20, r up to {MAX_R}, p up to {MAX_P})")
    try:
        salt, digest = (base64.b64decode(part, validate=True) for part in parts[4:])
    except (binascii.Error, ValueError):
        raise ValueError("the salt and hash must be base64") from None
    if not salt or not 16 <= len(digest) <= 64:
        raise ValueError("the salt is empty, or the hash is not 16 to 64 bytes")
    return n, r, p, salt, digest


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
