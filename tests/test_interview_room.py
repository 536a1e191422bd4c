"""The pair room as data: roles, the baton, what each member's bytes do, the shared size."""

from __future__ import annotations

from microgpt_tui.engine.interview.room import (
    LEAVE_KEY,
    PRIVATE_KEY,
    TAKE_KEY,
    BatonChanged,
    Ignored,
    Leave,
    Role,
    Room,
    ToDesk,
    ToRoom,
    View,
    ViewChanged,
)


def room_of_three() -> Room:
    room = Room()
    room.join(1, "ivy", "SHA256:ivy", interviewer=True, size=(100, 30))
    room.join(2, "cal", "SHA256:cal", interviewer=False, size=(80, 24))
    room.join(3, "sam", "SHA256:sam", interviewer=False, size=(120, 40))
    return room


def test_roles_interviewer_candidate_then_spectators():
    room = room_of_three()
    assert [m.role for m in room.members.values()] == [
        Role.INTERVIEWER, Role.CANDIDATE, Role.SPECTATOR]
    assert room.driver() is room.members[2]


def test_only_the_driver_reaches_the_room_and_others_get_a_notice():
    room = room_of_three()
    assert room.route(2, b"3") == [ToRoom(b"3")]
    for member in (1, 3):
        (action,) = room.route(member, b"3")
        assert isinstance(action, Ignored) and "cal (candidate) is driving" in action.notice


def test_terminal_replies_from_non_drivers_are_dropped_silently():
    room = room_of_three()
    assert room.route(3, b"\x1b[?2026;2$y\x1b[12;40R\x1b[I") == []
    assert room.route(3, b"\x1b[A") != []  # an arrow key is a person's key: notice


def test_the_interviewer_takes_and_gives_back_the_keyboard():
    room = room_of_three()
    (took,) = room.route(1, TAKE_KEY)
    assert isinstance(took, BatonChanged) and took.driver == 1
    assert room.route(1, b"x") == [ToRoom(b"x")]
    assert isinstance(room.route(2, b"x")[0], Ignored)
    (gave,) = room.route(1, TAKE_KEY)
    assert gave.driver == 2 and room.driver() is room.members[2]


def test_the_candidate_cannot_seize_the_keyboard_or_open_the_desk():
    room = room_of_three()
    room.route(1, TAKE_KEY)
    for key in (TAKE_KEY, PRIVATE_KEY):
        (action,) = room.route(2, key)
        assert isinstance(action, Ignored) and "only the interviewer" in action.notice
    assert room.driver() is room.members[1]


def test_server_keys_are_split_out_of_a_chunk():
    room = room_of_three()
    assert room.route(2, b"ab" + LEAVE_KEY + b"c") == [ToRoom(b"ab"), Leave(2), ToRoom(b"c")]


def test_the_private_desk_takes_the_interviewers_keys_while_shown():
    room = room_of_three()
    assert room.route(1, PRIVATE_KEY) == [ViewChanged(1, View.DESK)]
    assert room.route(1, b"note") == [ToDesk(b"note")]
    assert room.route(1, PRIVATE_KEY) == [ViewChanged(1, View.ROOM)]


def test_a_reconnecting_candidate_gets_the_seat_back_and_an_old_connection_only_watches():
    room = room_of_three()
    room.leave(2)
    assert room.driver() is None and "not connected" in room.driver_label()
    room.join(4, "cal", "SHA256:cal", interviewer=False, size=(80, 24))
    assert room.members[4].role is Role.CANDIDATE and room.driver() is room.members[4]
    room.join(5, "cal", "SHA256:cal", interviewer=False, size=(80, 24))
    assert room.members[4].role is Role.SPECTATOR and room.driver() is room.members[5]
    room.join(6, "eve", "SHA256:eve", interviewer=False, size=(80, 24))
    assert room.members[6].role is Role.SPECTATOR


def test_the_keyboard_returns_to_the_candidate_when_the_interviewer_leaves():
    room = room_of_three()
    room.route(1, TAKE_KEY)
    room.leave(1)
    assert room.driver() is room.members[2]


def test_the_shared_size_is_the_smallest_watching_terminal_of_at_least_80x24():
    room = room_of_three()  # 100×30, 80×24, 120×40
    assert room.shared_size() == (80, 24) and all(room.fits(m) for m in (1, 2, 3))
    room.resize(2, (90, 26))
    assert room.shared_size() == (90, 26)
    room.resize(2, (70, 20))  # below the app's minimum: a notice for it, not a tiny room
    assert room.shared_size() == (100, 30) and not room.fits(2) and room.fits(3)
    room.route(1, PRIVATE_KEY)  # on the desk: the interviewer's terminal does not count
    assert room.shared_size() == (120, 40)
    room.leave(1)
    room.leave(3)
    assert room.shared_size() == (120, 40)  # no one left who can show it: the last size stays


def test_the_summary_names_the_driver_and_members():
    summary = room_of_three().summary()
    assert summary["type"] == "room" and summary["driver"] == "cal (candidate)"
    assert [m["role"] for m in summary["members"]] == ["interviewer", "candidate", "spectator"]


def test_a_served_apps_heavy_work_uses_at_most_its_share_of_the_cores(monkeypatch):
    from microgpt_tui.engine.cores import MAX_CORES_ENV, usable_cores
    from microgpt_tui.engine.montecarlo import default_workers

    monkeypatch.delenv(MAX_CORES_ENV, raising=False)
    everything = usable_cores()
    monkeypatch.setenv(MAX_CORES_ENV, "1")
    assert usable_cores() == 1 == default_workers()
    monkeypatch.setenv(MAX_CORES_ENV, "not a number")
    assert usable_cores() == everything


def test_in_band_size_reports_never_reach_the_room_app():
    room = room_of_three()
    assert room.route(2, b"\x1b[?2048;1$y") == []  # "I can report my size myself"
    assert room.route(2, b"a\x1b[48;24;80;480;800tb") == [ToRoom(b"ab")]
