"""Whole visits against the loopback internet: every phase in order, each failure at the step
where it happens with its reason, redirects hop by hop, cold vs warm, p50/p95, cancelling.

One DemoInternet serves the module (started once: the tests stay fast). Timeouts are short
and only bound a failure; nothing asserts how long a phase took.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from microgpt_tui.engine.light import SPEED_IN_FIBRE_KM_S
from microgpt_tui.engine.nettrace import report, tls_step
from microgpt_tui.engine.nettrace.browser import Browser
from microgpt_tui.engine.nettrace.demo import NAMES, DemoInternet
from microgpt_tui.engine.nettrace.steps import PHASES, Step, Visit
from microgpt_tui.engine.nettrace.visit import (
    COLD_WARM,
    _light,
    cold_warm,
    run_visit,
    visit_steps,
)
from microgpt_tui.engine.nettrace.web_server import WebServer, html_page, redirect

BOUND_S = 2.0  # bounds a failure only
FULL = ["parse", "dns", "walk", "tcp", "tls", "http", "render"]
STEP_KEYS = set(Step("parse", 0, "", 0.0, 0.0).to_json())


@pytest.fixture(autouse=True, scope="module")
def _no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leaked = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture(scope="module")
def net() -> Iterator[DemoInternet]:
    with DemoInternet(timeout=BOUND_S) as internet:
        yield internet


def visit(net: DemoInternet, name_or_url: str, trust: bool = True, cancel=None,
          **settings) -> Visit:
    url = net.urls[name_or_url].url if name_or_url in net.urls else name_or_url
    with Browser(net.settings(trust_ca=trust, **settings)) as browser:
        return run_visit(url, browser, cancel)


def phases(steps: list[Step]) -> list[str]:
    return [step.phase for step in steps]


def check_json(result: Visit) -> dict:
    """The visit as JSON, and no step's facts hiding its own fields."""
    text = json.dumps(result.to_json(), allow_nan=False)
    for step in result.steps:
        assert not STEP_KEYS & set(step.detail), step.phase
        assert not {"url", "run"} & set(step.detail), step.phase  # the CLI's own keys
    return json.loads(text)


def test_the_demo_offers_what_its_names_say(net):
    assert tuple(net.urls) == NAMES
    assert all(demo.url.startswith(("https://", "http://")) for demo in net.urls.values())


def test_the_whole_walk_to_the_home_page(net):
    result = visit(net, "home")
    assert result.ok and result.error == "" and len(result.hops) == 1
    assert phases(result.steps) == FULL and all(s.ok and not s.skipped for s in result.steps)
    steps = {s.phase: s for s in result.steps}
    assert steps["parse"].detail["fetch_url"] == net.urls["home"].url
    assert steps["dns"].detail["addresses"] == ["IPv4 127.0.0.1"]
    assert "recursive resolver" in steps["dns"].detail["source"]
    walk = steps["walk"].detail["queries"]
    assert [q["kind"] for q in walk] == ["referral", "referral", "answer"]
    assert [q["zone"] for q in walk[:2]] == ["test.", "demo.test."]
    assert steps["walk"].round_trips == 3
    assert steps["tcp"].detail["why"] == "the only address tried"
    tls = steps["tls"].detail
    assert tls["alpn"] == "h2" and tls["verified"] and tls["version"] == "TLSv1.3"
    assert tls["chain_source"] == "verified chain" and len(tls["chain"]) == 3
    assert tls["chain"][0]["sans"][0] == "www.demo.test" and tls["chain"][2]["self_signed"]
    http = steps["http"].detail
    assert (http["version"], http["status"]) == ("HTTP/2", 200)
    assert ":path: /" in http["request"] and http["body_bytes"] > 0
    assert {"PREFACE", "SETTINGS", "HEADERS", "DATA"} <= {f["type"] for f in http["frames"]}
    render = steps["render"].detail
    assert render["page_title"] == "The demo internet" and render["outline"][0] == "html"
    assert "stylesheet /style.css" in render["subresources"]
    starts = [s.started for s in result.steps]
    assert starts == sorted(starts) and result.total >= result.steps[-1].end - 1e-9
    as_json = check_json(result)
    assert as_json["ok"] and [s["phase"] for s in as_json["steps"]] == FULL


def test_an_untrusted_ca_fails_at_tls_and_shows_the_offered_chain(net):
    result = visit(net, "home", trust=False)
    assert not result.ok and result.failed_phase == "tls"
    assert result.error == "TLS: certificate not trusted: unable to get local issuer certificate"
    assert phases(result.steps) == ["parse", "dns", "walk", "tcp", "tls"]
    tls = result.steps[-1]
    assert not tls.ok and tls.detail["verify_error"] == "unable to get local issuer certificate"
    assert tls.detail["chain_source"] == "as offered, read again without verifying"
    assert [c["is_ca"] for c in tls.detail["chain"]] == [False, True]
    lines = report.step_lines(tls)
    assert "verification failed: unable to get local issuer certificate" in lines
    assert any("leaf: CN=www.demo.test" in line for line in lines)
    check_json(result)


@pytest.mark.parametrize("name, phase, words", [
    ("nxdomain", "dns", "NXDOMAIN"),
    ("refused", "tcp", "connection refused by 127.0.0.1:"),
    ("expired", "tls", "certificate has expired"),
    ("wrong-host", "tls", "Hostname mismatch"),
    ("not-found", "http", "404 Not Found"),
])
def test_each_failure_at_its_step_with_its_reason(net, name, phase, words):
    result = visit(net, name)
    assert not result.ok and result.failed_phase == phase
    assert result.error.startswith(f"{phase.upper()}: ") and words in result.error
    failed = [s for s in result.steps if not s.ok]
    assert [s.phase for s in failed] == [phase] and words in failed[0].error
    expected = FULL[:FULL.index(phase) + 1]
    if name == "nxdomain":
        expected = ["parse", "dns"]  # no address: no walk to show, nothing to connect to
    if name == "not-found":
        expected = FULL  # the error page is still a page: it is rendered
    assert phases(result.steps) == expected
    check_json(result)


def test_a_server_that_never_answers_times_out_at_tls(net):
    result = visit(net, "timeout", timeout=0.5, walk=False)
    assert result.failed_phase == "tls"
    assert result.error == "TLS: no answer to the ClientHello within 0.5 s"


def test_a_visit_with_no_walk_has_no_walk_step_cold_or_warm(net):
    with Browser(net.settings(trust_ca=True, walk=False)) as browser:
        cold, warm = (run_visit(net.urls["home"].url, browser) for _ in range(2))
    assert phases(cold.steps) == ["parse", "dns", "tcp", "tls", "http", "render"]
    assert phases(warm.steps) == phases(cold.steps)  # a reused connection skips what ran
    assert [s.phase for s in warm.steps if s.skipped] == ["dns", "tcp", "tls"]


def test_a_cname_is_followed(net):
    result = visit(net, "cname")
    assert result.ok
    dns = result.steps[1].detail
    assert any("CNAME" in record for record in dns["records"])


def test_http1_when_the_server_offers_no_h2(net):
    result = visit(net, "http1")
    assert result.ok
    http = result.hops[0].step("http")
    assert http is not None and http.detail["version"] == "HTTP/1.1"
    assert http.detail["request"].startswith("GET / HTTP/1.1\r\nHost: www.demo.test:")
    assert http.detail["frames"] == []


def test_redirects_hop_by_hop_on_one_connection(net):
    result = visit(net, "redirects")
    assert result.ok and len(result.hops) == 3
    assert [h.url.rsplit("/", 1)[1] for h in result.hops] == ["old", "moved", ""]
    statuses = [h.step("http").detail["status"] for h in result.hops]  # type: ignore[union-attr]
    assert statuses == [301, 302, 200]
    for hop in result.hops[1:]:
        reused = [s for s in hop.steps if s.phase in ("dns", "walk", "tcp", "tls")]
        assert [s.phase for s in reused] == ["dns", "walk", "tcp", "tls"]
        assert all(s.skipped.startswith("an open connection") and "reused" in s.skipped
                   for s in reused)
    assert phases(result.hops[-1].steps)[-1] == "render"
    assert [s.hop for s in result.steps if s.phase == "http"] == [0, 1, 2]
    check_json(result)


def test_http_is_redirected_to_https(net):
    result = visit(net, "http")
    assert result.ok and len(result.hops) == 2
    first, second = result.hops
    assert "tls" not in phases(first.steps) and first.url.startswith("http://")
    assert first.step("http").detail["status"] == 301  # type: ignore[union-attr]
    assert phases(second.steps) == FULL
    walk = second.step("walk")
    assert walk is not None and "cache" in walk.skipped  # the same name, walked a moment ago
    assert second.step("tcp").skipped == ""  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def loops(net) -> Iterator[int]:
    """A server of the demo's CA whose pages redirect in circles and in a long line."""
    routes = {"/a": redirect("/b", 302), "/b": redirect("/a", 302), "/self": redirect("/self"),
              **{f"/{i}": redirect(f"/{i + 1}", 302) for i in range(1, 6)},
              "/6": html_page("the end")}
    with WebServer(routes, default_cert=net.ca.issue(["www.demo.test"])) as server:
        yield server.address[1]


def test_a_redirect_loop_is_caught(net, loops):
    result = visit(net, f"www.demo.test:{loops}/a")  # as typed: no scheme
    assert not result.ok and result.failed_phase == "http"
    assert result.error == f"HTTP: a redirect loop (https://www.demo.test:{loops}/a)"
    assert len(result.hops) == 2  # /a → /b → back to /a: the second hop sees it


def test_a_page_that_redirects_to_itself_is_a_loop_at_once(net, loops):
    result = visit(net, f"https://www.demo.test:{loops}/self")
    assert "a redirect loop" in result.error and len(result.hops) == 1


def test_too_many_redirects(net, loops):
    url = f"https://www.demo.test:{loops}/1"
    result = visit(net, url, max_redirects=3)
    assert result.error == f"HTTP: more than 3 redirects (https://www.demo.test:{loops}/5)"
    assert len(result.hops) == 4
    assert visit(net, url, max_redirects=5).ok


def test_redirects_not_followed_render_the_redirect_page(net):
    result = visit(net, "redirects", follow_redirects=False)
    assert result.ok and len(result.hops) == 1 and phases(result.steps)[-1] == "render"


def test_cold_warm_and_a_new_connection(net):
    with Browser(net.settings(trust_ca=True)) as browser:
        seen: list[Visit] = []
        visits = cold_warm(net.urls["home"].url, browser, on_visit=seen.append)
    assert seen == visits and [v.run for v in visits] == [0, 1, 2]
    assert all(v.ok for v in visits) and len(COLD_WARM) == 3
    cold, warm, new = ({s.phase: s for s in v.steps} for v in visits)
    assert not any(s.skipped for s in cold.values())
    assert all(warm[p].skipped for p in ("dns", "walk", "tcp", "tls"))
    assert not warm["http"].skipped and warm["http"].detail["status"] == 200
    assert not new["dns"].skipped and not new["tcp"].skipped
    assert "cache" in new["walk"].skipped
    assert new["tls"].detail["session_reused"] is True and new["tls"].round_trips == 1
    assert not cold["tls"].detail["session_reused"]
    lines = report.compare_lines(visits, COLD_WARM)
    assert "↺" in next(line for line in lines if line.startswith("TLS"))


@pytest.mark.parametrize("name", ["home", "http1", "http"])
def test_a_warm_visit_reuses_every_kept_connection(net, name):
    """HTTP/2, HTTP/1.1 over TLS and plain HTTP: an idle connection still open is reused."""
    with Browser(net.settings(trust_ca=True)) as browser:
        cold, warm = (run_visit(net.urls[name].url, browser) for _ in range(2))
    assert cold.ok and warm.ok and len(warm.hops) == len(cold.hops)
    for hop in warm.hops:
        tcp = hop.step("tcp")
        assert tcp is not None and tcp.skipped.startswith("an open connection")


def test_repeats_give_percentiles_per_phase(net):
    with Browser(net.settings(trust_ca=True)) as browser:
        visits = [run_visit(net.urls["home"].url, browser) for _ in range(3)]
    rows = {row["phase"]: row for row in report.phase_percentiles(visits)}
    assert list(rows) == [*PHASES, "total"]
    assert rows["tls"]["runs"] == 1 and rows["tls"]["skipped"] == 2
    assert rows["http"]["runs"] == 3 and rows["http"]["skipped"] == 0
    assert rows["tls"]["p50_ms"] == rows["tls"]["p95_ms"] == round(
        visits[0].phase_time("tls") * 1e3, 3)
    http_ms = sorted(round(v.phase_time("http") * 1e3, 3) for v in visits)
    assert rows["http"]["p50_ms"] == http_ms[1] and rows["http"]["p95_ms"] == http_ms[2]


def test_a_cancel_set_before_the_visit_stops_after_the_first_step(net):
    cancel = threading.Event()
    cancel.set()
    result = visit(net, "home", cancel=cancel)
    assert result.cancelled and not result.ok and phases(result.steps) == ["parse"]
    assert json.loads(json.dumps(result.to_json()))["cancelled"] is True


def test_a_cancel_while_running_stops_at_the_next_step(net):
    cancel = threading.Event()
    result = Visit(net.urls["home"].url)
    with Browser(net.settings(trust_ca=True)) as browser:
        for step in visit_steps(result.typed, browser, result, cancel):
            if step.phase == "dns":
                cancel.set()
    assert result.cancelled and phases(result.steps) == ["parse", "dns"]


def test_a_silent_tls_handshake_can_be_cancelled(net, monkeypatch):
    cancel = threading.Event()
    handshake = tls_step.handshake

    def cancelled_while_waiting(*args, **kwargs):
        cancel.set()  # `c` pressed while the ClientHello waits for an answer that never comes
        return handshake(*args, **kwargs)

    monkeypatch.setattr(tls_step, "handshake", cancelled_while_waiting)
    result = visit(net, "timeout", cancel=cancel, walk=False)  # the timeout is BOUND_S
    assert result.cancelled and result.error == "TLS: cancelled"


def test_each_step_shows_in_words(net):
    for step in visit(net, "redirects").steps:
        assert report.headline(step) and report.explain(step).startswith(
            report.WHAT_IT_DOES[step.phase])
    rows = report.waterfall(visit(net, "home"))
    assert len(rows) == len(FULL) and all(row.endswith("|") for row in rows)


def test_the_speed_of_light_on_loopback_and_far_away(net):
    tcp = visit(net, "home", distance_km=1000).hops[0].step("tcp")
    assert tcp is not None and tcp.detail["distance_km"] == 0.0  # this machine, whatever --km
    assert tcp.detail["light_floor_ms"] == 0.0
    assert "all of it is software" in report.light_lines(tcp.detail)[0]
    far = _light(0.030, "192.0.2.1", 1000.0)
    assert far["light_floor_ms"] == round(2 * 1000 / SPEED_IN_FIBRE_KM_S * 1e3, 3)
    assert far["light_share"] == round(2 * 1000 / SPEED_IN_FIBRE_KM_S / 0.030, 3)
    assert "for 1,000 km and back" in report.light_lines(far)[0]
    unknown = _light(0.030, "192.0.2.1", None)
    assert "light_floor_ms" not in unknown
    assert unknown["farthest_km"] == round(0.030 * SPEED_IN_FIBRE_KM_S / 2)
    assert "distance is not known" in report.light_lines(unknown)[0]


def test_an_unfetchable_url_fails_at_parse(net):
    result = visit(net, "ftp://www.demo.test/")
    assert result.failed_phase == "parse" and "not ftp://" in result.error
    assert phases(result.steps) == ["parse"] and result.steps[0].detail == {
        "typed": "ftp://www.demo.test/"}
    assert report.step_lines(result.steps[0]) == ["typed: ftp://www.demo.test/"]


def test_the_walk_runs_beside_the_visit_and_is_not_in_its_total(net):
    result = visit(net, "home")
    steps = {s.phase: s for s in result.steps}
    walk, dns, tcp = steps["walk"], steps["dns"], steps["tcp"]
    assert walk.aside and not dns.aside
    assert walk.started == dns.started  # drawn under the DNS step it explains
    assert tcp.started >= dns.end  # the visit's clock stood still while the walk ran
    assert result.total == max(s.end for s in result.steps if not s.aside)
    assert "re-enacted" in " ".join(report.step_lines(walk))
    assert check_json(result)["steps"][2]["aside"] is True


def test_a_cold_visit_starts_with_an_empty_resolver_cache(net):
    url = net.urls["home"].url
    resolver = net.dns.recursive
    with Browser(net.settings(trust_ca=True)) as browser:
        run_visit(url, browser)  # the resolver now holds the answer
        walks = resolver.walks
        cold_warm(url, browser)
    assert resolver.walks > walks  # the cold visit's lookup walked again from the root


def test_a_failed_handshake_ends_the_visit_with_the_refused_chain(net):
    result = visit(net, "expired")
    tls = result.steps[-1]
    assert tls.phase == "tls" and not tls.ok
    assert tls.detail["chain"] and "read again" in tls.detail["chain_source"]
    assert result.total == tls.end  # the second read is beside the visit, not after it
