"""Snapshots of the shell: home at 80×24 and 120×40, help, a placeholder, the too-small notice."""

from __future__ import annotations

from microgpt_tui.tui.app import make_app


def test_home_80x24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24))


def test_home_120x40(snap_compare):
    assert snap_compare(make_app(size=(120, 40)), terminal_size=(120, 40))


def test_home_help_80x24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), press=["question_mark"])


def test_home_second_row_highlighted(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), press=["down", "j"])


def test_too_small_notice(snap_compare):
    assert snap_compare(make_app(), terminal_size=(60, 20))
