"""`microgpt-tui serve` on loopback: who gets in, what a session may ask for, the app it gets."""

from __future__ import annotations

import asyncio

import asyncssh
import pytest
from ssh_harness import Keys, connect, eventually, open_screen, serving

from microgpt_tui.tui.serve.server import ServeOptions

HOME_TEXT = "Six"  # home's first words below the title bar




def options(keys: Keys, tmp_path, **changes) -> ServeOptions:
    base = ServeOptions(authorized_keys=keys.authorize("authorized", "alice"),
                        sessions_root=tmp_path / "sessions")
    for name, value in changes.items():
        setattr(base, name, value)
    return base


async def test_an_unauthorised_key_is_refused(keys, tmp_path):
    async with serving(options(keys, tmp_path), keys.key("host")) as (port, hub):
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(port, keys.key("mallory"))
        await eventually(lambda: any(e["kind"] == "refused" for e in hub.log.events))


async def test_an_authorised_key_gets_the_app_and_drives_it(keys, tmp_path):
    async with serving(options(keys, tmp_path), keys.key("host")) as (port, hub):
        async with await connect(port, keys.key("alice")) as conn:
            screen = await open_screen(conn)
            await screen.wait_for(HOME_TEXT)
            assert "alice" in screen.text()  # the title bar says whom it serves
            screen.press("3")
            await screen.wait_for("Monte Carlo pi")
        joined = [e for e in hub.log.events if e["kind"] == "joined"]
        assert joined and joined[0]["fingerprint"].startswith("SHA256:")


async def test_a_window_resize_reaches_the_app(keys, tmp_path):
    async with serving(options(keys, tmp_path), keys.key("host")) as (port, _):
        async with await connect(port, keys.key("alice")) as conn:
            screen = await open_screen(conn)
            await screen.wait_for(HOME_TEXT)
            screen.resize(100, 30)
            await screen.settle()
            # The footer sits on the last row of the new size.
            await screen.wait_for_row(29, "Quit")


async def test_exec_subsystems_and_forwarding_are_refused(keys, tmp_path):
    async with serving(options(keys, tmp_path), keys.key("host")) as (port, hub):
        async with await connect(port, keys.key("alice")) as conn:
            with pytest.raises((asyncssh.ChannelOpenError, asyncssh.ProcessError,
                                asyncssh.Error)):
                await conn.run("id", check=True, timeout=10)
            with pytest.raises((asyncssh.SFTPError, asyncssh.ChannelOpenError, asyncssh.Error)):
                await conn.start_sftp_client()
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.open_connection("127.0.0.1", port)
            with pytest.raises((asyncssh.Error, asyncssh.ChannelListenError)):
                await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", port)
        def reasons() -> str:
            return " ".join(e.get("reason", "") for e in hub.log.events if e["kind"] == "refused")

        for what in ("running a command", "sftp", "port forwarding", "remote port forwarding"):
            await eventually(lambda: what in reasons())  # noqa: B023


async def test_a_session_without_a_terminal_is_told_to_use_one(keys, tmp_path):
    async with serving(options(keys, tmp_path), keys.key("host")) as (port, _):
        async with await connect(port, keys.key("alice")) as conn:
            process = await conn.create_process(term_type=None)
            output = await asyncio.wait_for(process.stdout.read(), 10)
            assert "ssh -t" in output


async def test_repeated_failures_turn_an_address_away(keys, tmp_path):
    async with serving(options(keys, tmp_path), keys.key("host")) as (port, hub):
        for _ in range(hub.limiter.max_failures):
            with pytest.raises(asyncssh.PermissionDenied):
                await connect(port, keys.key("mallory"))
        with pytest.raises((asyncssh.Error, OSError)):
            await connect(port, keys.key("alice"))  # even a good key, for now
        await eventually(lambda: any("too many failed logins" in e.get("reason", "")
                                     for e in hub.log.events))


async def test_the_session_cap_and_the_idle_timeout(keys, tmp_path):
    opts = options(keys, tmp_path, max_sessions=1, idle_timeout=3.0)
    async with serving(opts, keys.key("host")) as (port, _):
        async with await connect(port, keys.key("alice")) as first:
            screen = await open_screen(first)
            await screen.wait_for(HOME_TEXT)
            async with await connect(port, keys.key("alice")) as second:
                extra = await open_screen(second)
                await asyncio.wait_for(extra.closed.wait(), 10)
                assert b"server is full" in bytes(extra.raw)
            await asyncio.wait_for(screen.closed.wait(), 15)  # no keys for 3 s
            assert b"No keys for 3 s" in bytes(screen.raw)


async def test_password_logins_when_a_password_file_is_given(keys, tmp_path):
    from microgpt_tui.engine.interview.passwords import set_password

    password_file = tmp_path / "passwords"
    set_password(password_file, "pat", "correct horse")
    opts = options(keys, tmp_path, authorized_keys=None, password_file=password_file)
    async with serving(opts, keys.key("host")) as (port, _):
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(port, None, user="pat", password="wrong guess")
        async with await connect(port, None, user="pat", password="correct horse") as conn:
            screen = await open_screen(conn)
            await screen.wait_for(HOME_TEXT)


async def test_agent_forwarding_is_refused_and_logged(keys, tmp_path):
    async with serving(options(keys, tmp_path), keys.key("host")) as (port, hub):
        conn = await asyncssh.connect(
            "127.0.0.1", port, username="alice", client_keys=[keys.key("alice")],
            known_hosts=None, agent_path=None, agent_forwarding=str(tmp_path / "agent.sock"))
        async with conn:
            await open_screen(conn)
            await eventually(lambda: any("agent forwarding" in e.get("reason", "")
                                         for e in hub.log.events))
