"""The login's defences: scrypt password hashes and their file, and failed-login rate limits
per address (on a fake clock)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from microgpt_tui.engine.interview import passwords
from microgpt_tui.engine.interview.passwords import (
    PasswordFileError,
    check_login,
    hash_password,
    load_password_file,
    set_password,
    verify_password,
)
from microgpt_tui.engine.interview.ratelimit import FailureLimiter


def test_a_hash_names_its_kdf_costs_and_a_fresh_salt():
    stored = hash_password("correct horse")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32
    assert hash_password("correct horse") != stored  # another salt


def test_verify_accepts_the_password_and_nothing_else():
    stored = hash_password("pässwörd ✓")
    assert verify_password(stored, "pässwörd ✓")
    assert not verify_password(stored, "passwörd ✓")
    assert not verify_password(stored, "")
    assert not verify_password(stored, "x" * 100_000)


@pytest.mark.parametrize("stored", ["", "plain", "bcrypt$1$2$3$YQ==$YQ==",
                                    "scrypt$16384$8$1$!!$YWJjZGVmZ2hpamtsbW5vcA==",
                                    "scrypt$3$8$1$YQ==$YWJjZGVmZ2hpamtsbW5vcA==",
                                    "scrypt$1073741824$8$1$YQ==$YWJjZGVmZ2hpamtsbW5vcA=="])
def test_verify_against_a_malformed_hash_is_false(stored):
    assert not verify_password(stored, "anything")


def test_an_unknown_user_costs_the_same_scrypt_as_a_wrong_password(monkeypatch):
    users = {"alice": hash_password("right")}
    calls: list[dict] = []
    real_scrypt = hashlib.scrypt

    def counting_scrypt(password, **costs):
        calls.append({key: costs[key] for key in ("n", "r", "p", "dklen")})
        return real_scrypt(password, **costs)

    monkeypatch.setattr(passwords.hashlib, "scrypt", counting_scrypt)
    assert check_login(users, "alice", "right")
    assert not check_login(users, "alice", "wrong")
    wrong_password = calls[-1]
    assert not check_login(users, "mallory", "right")
    assert calls[-1] == wrong_password and len(calls) == 3


def test_set_password_writes_a_private_file_and_keeps_other_lines(tmp_path):
    path = tmp_path / "passwords"
    set_password(path, "alice", "one")
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    path.write_text("# interviewers\n\n" + text)
    path.chmod(0o644)
    set_password(path, "bob", "two")
    set_password(path, "alice", "three")
    assert path.stat().st_mode & 0o777 == 0o600
    lines = path.read_text().splitlines()
    assert lines[:2] == ["# interviewers", ""] and [line.split(":")[0] for line in lines[2:]] == [
        "alice", "bob"]
    users = load_password_file(path)
    assert set(users) == {"alice", "bob"}
    assert check_login(users, "alice", "three") and not check_login(users, "alice", "one")
    assert check_login(users, "bob", "two")


@pytest.mark.parametrize("user", ["", "a:b", "a b", "tab\there", "esc\x1b", "x" * 65])
def test_user_names_that_cannot_sit_on_a_line_are_refused(tmp_path, user):
    with pytest.raises(PasswordFileError):
        set_password(tmp_path / "passwords", user, "secret")
    assert not (tmp_path / "passwords").exists()


def test_an_empty_or_endless_password_is_refused(tmp_path):
    for password in ("", "x" * 1025):
        with pytest.raises(PasswordFileError, match="password"):
            set_password(tmp_path / "passwords", "alice", password)


def test_set_password_refuses_a_symlink_and_a_malformed_file(tmp_path):
    target = tmp_path / "real"
    set_password(target, "alice", "one")
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(PasswordFileError, match="symbolic link"):
        set_password(tmp_path / "link", "bob", "two")
    broken = tmp_path / "broken"
    broken.write_text("alice\n")
    with pytest.raises(PasswordFileError, match="line 1"):
        set_password(broken, "bob", "two")
    assert broken.read_text() == "alice\n"


GOOD_LINE = "alice:" + hash_password("x")  # random salt: the cases below name it {good}


@pytest.mark.parametrize("content, problem", [
    ("alice\n", "line 1: expected user:scrypt"),
    ("# ok\n{good}\nbob:md5$abc\n", "line 3: expected a hash"),
    ("bob:scrypt$16384$8$1$@@@$YWJjZGVmZ2hpamtsbW5vcA==\n", "line 1: the salt and hash"),
    ("bob:scrypt$1000$8$1$YQ==$YWJjZGVmZ2hpamtsbW5vcA==\n", "line 1: scrypt costs"),
    ("bob:scrypt$1048576$64$1$YQ==$YWJjZGVmZ2hpamtsbW5vcA==\n", "line 1: scrypt costs"),
    ("bob:scrypt$٣$8$1$YQ==$YWJjZGVmZ2hpamtsbW5vcA==\n", "line 1: scrypt's n, r and p"),
    ("bob:scrypt$16384$8$1$YQ==$YQ==\n", "line 1: the salt is empty, or the hash"),
    ("a b:{hash}\n", "line 1: user name"),
    ("{good}\n\n{good}\n", "line 3: user 'alice' is already on line 1"),
])
def test_a_malformed_password_file_names_the_line(tmp_path, content, problem):
    # (the same case names in every pytest-xdist worker: the hash is put in here)
    path = tmp_path / "passwords"
    content = content.replace("{good}", GOOD_LINE).replace("{hash}", GOOD_LINE.split(":", 1)[1])
    path.write_text(content)
    with pytest.raises(PasswordFileError) as caught:
        load_password_file(path)
    message = str(caught.value)
    assert problem in message and str(path) in message and "\n" not in message


def test_unreadable_password_files_are_one_line(tmp_path):
    (tmp_path / "latin1").write_bytes(b"ren\xe9:x\n")
    for path, problem in [(tmp_path / "missing", "no such file"), (tmp_path, "a directory"),
                          (tmp_path / "latin1", "not UTF-8")]:
        with pytest.raises(PasswordFileError, match=problem):
            load_password_file(path)


def test_comments_and_blank_lines_are_not_users(tmp_path):
    path = tmp_path / "passwords"
    path.write_text(f"# who may log in\n\n  {GOOD_LINE}  \r\n")
    assert list(load_password_file(path)) == ["alice"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_the_fifth_failure_in_a_window_bans_until_the_ban_ends(clock):
    limiter = FailureLimiter(max_failures=5, window=60, ban=300, clock=clock)
    for _ in range(4):
        limiter.failed("10.0.0.1")
        clock.now += 10
        assert limiter.allowed("10.0.0.1")
    limiter.failed("10.0.0.1")
    assert not limiter.allowed("10.0.0.1")
    assert limiter.allowed("10.0.0.2")  # one address's failures ban no other
    clock.now += 299
    assert not limiter.allowed("10.0.0.1")
    clock.now += 1
    assert limiter.allowed("10.0.0.1")
    limiter.failed("10.0.0.1")  # after a ban the count starts afresh
    assert limiter.allowed("10.0.0.1")


def test_failures_spread_wider_than_the_window_never_ban(clock):
    limiter = FailureLimiter(max_failures=3, window=60, ban=300, clock=clock)
    for _ in range(20):
        limiter.failed("10.0.0.1")
        clock.now += 30.5  # at most two failures within any 60 s
        assert limiter.allowed("10.0.0.1")


def test_a_success_forgives_the_failures(clock):
    limiter = FailureLimiter(max_failures=3, window=60, ban=300, clock=clock)
    limiter.failed("a")
    limiter.failed("a")
    limiter.succeeded("a")
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.allowed("a") and len(limiter) == 1


def test_old_addresses_are_forgotten_and_the_table_is_capped(clock):
    limiter = FailureLimiter(max_failures=2, window=60, ban=300, clock=clock, max_addresses=3)
    for address in ("a", "b", "c", "d", "e"):
        limiter.failed(address)
    assert len(limiter) == 3  # a and b, the least recently seen, were dropped
    limiter.failed("c")
    assert not limiter.allowed("c")
    clock.now += 61
    assert limiter.allowed("d") and len(limiter) == 1  # only the banned c is remembered
    clock.now += 300
    assert limiter.allowed("c") and len(limiter) == 0


@pytest.mark.parametrize("arguments", [{"max_failures": 0}, {"window": 0}, {"ban": -1},
                                       {"max_addresses": 0}])
def test_nonsense_limits_are_refused(arguments):
    with pytest.raises(ValueError):
        FailureLimiter(**arguments)
