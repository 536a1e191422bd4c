"""Pair mode over real SSH connections: one room, who drives, who only watches, the desk."""

from __future__ import annotations

import asyncio

from ssh_harness import Keys, connect, eventually, open_screen, serving

from microgpt_tui.engine.interview.room import PRIVATE_KEY, TAKE_KEY
from microgpt_tui.tui.serve.server import ServeOptions

HOME_TEXT = "Six"
PI_TEXT = "Monte Carlo pi"




def pair_options(keys: Keys, tmp_path, **changes) -> ServeOptions:
    opts = ServeOptions(authorized_keys=keys.authorize("authorized", "cal", "sam"),
                        interviewer_keys=keys.authorize("interviewers", "ivy"), pair=True,
                        sessions_root=tmp_path / "sessions")
    for name, value in changes.items():
        setattr(opts, name, value)
    return opts


async def test_the_spectator_sees_the_drivers_screen_and_its_keys_change_nothing(keys, tmp_path):
    async with serving(pair_options(keys, tmp_path), keys.key("host")) as (port, hub):
        async with await connect(port, keys.key("cal"), "cal") as cal_conn, \
                await connect(port, keys.key("sam"), "sam") as sam_conn:
            cal = await open_screen(cal_conn)
            await cal.wait_for(HOME_TEXT)
            sam = await open_screen(sam_conn)
            await sam.wait_for(HOME_TEXT)  # a late joiner sees the screen at once
            forwarded = []
            room_app = hub.room.app
            original_write = room_app.write
            room_app.write = lambda data: (forwarded.append(data), original_write(data))
            sam.press("3")  # the spectator's key: dropped by the server
            await sam.settle()
            assert forwarded == [] and PI_TEXT not in cal.text()
            cal.press("3")
            await cal.wait_for(PI_TEXT)
            await sam.wait_for(PI_TEXT)
            assert forwarded == [b"3"]
            await cal.settle()
            await sam.settle()
            assert sam.screen.display == cal.screen.display  # the same screen, cell for cell


async def test_the_interviewer_takes_the_keyboard_and_gives_it_back(keys, tmp_path):
    async with serving(pair_options(keys, tmp_path), keys.key("host")) as (port, hub):
        async with await connect(port, keys.key("cal"), "cal") as cal_conn, \
                await connect(port, keys.key("ivy"), "ivy") as ivy_conn:
            cal = await open_screen(cal_conn)
            ivy = await open_screen(ivy_conn)
            await ivy.wait_for(HOME_TEXT)
            ivy.press("3")  # not driving yet: ignored
            await ivy.settle()
            assert PI_TEXT not in cal.text()
            ivy.press(TAKE_KEY)
            await eventually(lambda: hub.room.room.driver().name == "ivy")
            ivy.press("3")
            await cal.wait_for(PI_TEXT)
            cal.press(TAKE_KEY)  # the candidate cannot seize it back
            await cal.settle()
            assert hub.room.room.driver().name == "ivy"
            ivy.press(TAKE_KEY)
            await eventually(lambda: hub.room.room.driver().name == "cal")
        record = (tmp_path / "sessions").glob("*/record.jsonl")
        text = "".join(path.read_text() for path in record)
        assert "took the keyboard" in text and "gave the keyboard back" in text


async def test_the_candidate_reconnects_to_the_room_as_it_was(keys, tmp_path):
    async with serving(pair_options(keys, tmp_path), keys.key("host")) as (port, hub):
        async with await connect(port, keys.key("ivy"), "ivy") as ivy_conn:
            ivy = await open_screen(ivy_conn)
            async with await connect(port, keys.key("cal"), "cal") as cal_conn:
                cal = await open_screen(cal_conn)
                await cal.wait_for(HOME_TEXT)
                cal.press("3")
                await cal.wait_for(PI_TEXT)
            await eventually(lambda: hub.room.room.driver() is None)
            await ivy.wait_for(PI_TEXT)  # the room goes on without the candidate
            async with await connect(port, keys.key("cal"), "cal") as cal_conn:
                cal = await open_screen(cal_conn)
                await cal.wait_for(PI_TEXT)
                assert hub.room.room.driver().name == "cal"


async def test_private_notes_never_reach_the_candidate(keys, tmp_path):
    secret = "SECRET-RUBRIC-NOTE"
    async with serving(pair_options(keys, tmp_path), keys.key("host")) as (port, hub):
        async with await connect(port, keys.key("cal"), "cal") as cal_conn, \
                await connect(port, keys.key("ivy"), "ivy") as ivy_conn:
            cal = await open_screen(cal_conn)
            ivy = await open_screen(ivy_conn)
            await ivy.wait_for(HOME_TEXT)
            ivy.press(PRIVATE_KEY)
            await ivy.wait_for("Private")
            await ivy.settle()
            ivy.press(secret)
            await ivy.wait_for(secret)
            ivy.press(PRIVATE_KEY)
            await ivy.wait_for(HOME_TEXT)
            await cal.settle()
            assert secret.encode() not in bytes(cal.raw)
            assert b"Private" not in bytes(cal.raw)
            await asyncio.sleep(0)


async def test_a_too_small_terminal_gets_a_notice_and_a_larger_one_the_screen(keys, tmp_path):
    async with serving(pair_options(keys, tmp_path), keys.key("host")) as (port, _):
        async with await connect(port, keys.key("cal"), "cal") as cal_conn, \
                await connect(port, keys.key("sam"), "sam") as sam_conn, \
                await connect(port, keys.key("ivy"), "ivy") as ivy_conn:
            cal = await open_screen(cal_conn, 90, 26)
            await cal.wait_for(HOME_TEXT)
            small = await open_screen(sam_conn, 70, 20)
            await small.wait_for("does not fit here")
            large = await open_screen(ivy_conn, 120, 40)
            await large.wait_for(HOME_TEXT)
            await large.settle()
            assert all(not line.strip() for line in large.screen.display[26:])  # letterboxed
            small.resize(85, 25)  # now it counts, and the room shrinks to fit it
            await small.wait_for(HOME_TEXT)
            await cal.wait_for_row(24, "Notes")  # the driver's screen is 25 rows now


async def test_the_shared_screen_is_recorded_as_an_asciinema_cast(keys, tmp_path):
    import json

    async with serving(pair_options(keys, tmp_path, record=True), keys.key("host")) as (port,
                                                                                        hub):
        async with await connect(port, keys.key("cal"), "cal") as cal_conn:
            cal = await open_screen(cal_conn)
            await cal.wait_for(HOME_TEXT)
            cal.resize(90, 30)
            cal.press("3")
            await cal.wait_for(PI_TEXT)
        cast = hub.room.session.cast_path
    header, *events = [json.loads(line) for line in cast.read_text().splitlines()]
    assert header["version"] == 2 and (header["width"], header["height"]) == (80, 24)
    assert ["r", "90x30"] in [event[1:] for event in events]
    shown = "".join(event[2] for event in events if event[1] == "o")
    assert "Monte Carlo pi" in shown
    times = [event[0] for event in events]
    assert times == sorted(times)


async def test_keys_after_ctrl_q_in_the_same_packet_do_nothing(keys, tmp_path):
    from microgpt_tui.engine.interview.room import LEAVE_KEY

    async with serving(pair_options(keys, tmp_path), keys.key("host")) as (port, hub):
        async with await connect(port, keys.key("ivy"), "ivy") as ivy_conn:
            ivy = await open_screen(ivy_conn)
            await ivy.wait_for(HOME_TEXT)
            async with await connect(port, keys.key("cal"), "cal") as cal_conn:
                cal = await open_screen(cal_conn)
                await cal.wait_for(HOME_TEXT)
                cal.press(LEAVE_KEY + TAKE_KEY + PRIVATE_KEY + b"3")
                await asyncio.wait_for(cal.closed.wait(), 10)
            assert hub.room.desk is None and hub.room.room.driver() is None
            ivy.press(TAKE_KEY)  # the room goes on for the others
            await eventually(lambda: getattr(hub.room.room.driver(), "name", None) == "ivy")
