"""MICROGPT_TUI_OFFLINE=1 (every test runs with it): nothing but this machine is resolved,
dialled or asked; each step that would have left says so."""

from __future__ import annotations

import pytest

from microgpt_tui.engine.nettrace import offline
from microgpt_tui.engine.nettrace.browser import Browser, Settings
from microgpt_tui.engine.nettrace.connect import Address, connect
from microgpt_tui.engine.nettrace.visit import run_visit


def test_only_loopback_is_allowed_while_offline():
    assert offline.offline()
    for host in ("localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]"):
        assert offline.refusal(host) == "", host
    for host in ("example.com", "192.0.2.1", "2001:db8::1", "198.41.0.4"):
        assert "offline (MICROGPT_TUI_OFFLINE=1)" in offline.refusal(host), host


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("0", False),
                                             ("", False)])
def test_the_switch(monkeypatch, value, expected):
    monkeypatch.setenv(offline.ENV, value)
    assert offline.offline() is expected
    assert (offline.refusal("example.com") != "") is expected


def test_connect_never_dials_an_address_off_this_machine():
    result = connect([Address("IPv4", "192.0.2.1", 443)], timeout=0.5)
    assert result.sock is None
    assert [a.outcome for a in result.attempts] == ["offline"]
    assert "192.0.2.1" in result.error


def test_a_visit_to_a_real_name_stops_at_dns():
    with Browser(Settings(timeout=0.5)) as browser:
        visit = run_visit("https://example.com/", browser)
    assert visit.failed_phase == "dns"
    assert "offline" in visit.error and "example.com" in visit.error


def test_an_ip_address_stops_at_tcp_and_the_walk_never_starts():
    with Browser(Settings(timeout=0.5)) as browser:
        visit = run_visit("https://192.0.2.1/", browser)
    assert visit.failed_phase == "tcp"
    assert [s.phase for s in visit.steps] == ["parse", "dns", "tcp"]
