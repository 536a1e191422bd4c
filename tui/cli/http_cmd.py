"""`microgpt-tui http`: what happens when you type a URL — every step run, timed and printed."""

from __future__ import annotations

import math
import os

from .output import CLIError, CommandFailed, Output
from .pi_cmd import parse_count

HELP = (
    "Visit a URL the way a browser does and print each step with its time: the URL parsed, "
    "DNS (the OS resolver, then the walk from the root servers), the TCP connection, the TLS "
    "handshake and certificate chain, the HTTP exchange (HTTP/2 frames when ALPN picks h2), "
    "redirects hop by hop, and a DOM outline of the page. --demo runs against a small "
    "internet started on 127.0.0.1 (no network needed). A failure exits 1 naming the step."
)

MAX_REPEAT = 1000
MAX_TIMEOUT = 120.0


def add_arguments(parser) -> None:
    parser.add_argument("url", nargs="?", help="a URL, a host name, or words to search for")
    parser.add_argument("--demo", nargs="?", const="home", metavar="NAME",
                        help="visit the loopback internet instead (NAME: home, http, http1, "
                             "redirects, cname, not-found, nxdomain, refused, timeout, "
                             "expired, wrong-host; 'list' lists them)")
    parser.add_argument("--trust-demo-ca", action="store_true",
                        help="trust the demo's CA (made for this run) on top of the system's")
    parser.add_argument("--insecure", action="store_true",
                        help="do not verify the certificate (the trace says so)")
    parser.add_argument("--cafile", metavar="F", help="a PEM file of more CA certificates "
                        "to trust")
    parser.add_argument("--timeout", metavar="S", help="seconds each network step may wait "
                        "(default 5)")
    parser.add_argument("--repeat", metavar="N", help="visit N times with one browser (the "
                        "first cold, the rest warm) and print p50/p95 per phase")
    parser.add_argument("--cold-warm", action="store_true",
                        help="cold, warm (connection reused), and a new connection (TLS "
                             "resumed), side by side")
    parser.add_argument("--km", metavar="D", help="the server's distance in km, for the "
                        "speed-of-light floor of each round trip")
    parser.add_argument("--no-walk", action="store_true",
                        help="skip the DNS walk from the root servers")
    parser.add_argument("--brief", action="store_true", help="one line per step")


def _seconds(text: str | None) -> float:
    if text is None:
        return 5.0
    try:
        value = float(text)
    except ValueError:
        raise CLIError(f"--timeout must be a number of seconds, not {text!r}") from None
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise CLIError(f"--timeout must be more than 0 and at most {MAX_TIMEOUT:g} s, "
                       f"not {text!r}")
    return value


def _km(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise CLIError(f"--km must be a distance in km, not {text!r}") from None
    if not (math.isfinite(value) and 0 <= value <= 40_075):
        raise CLIError(f"--km must be from 0 to 40075 (once around the Earth), not {text!r}")
    return value


def run(args, out: Output) -> int:
    from ...engine.nettrace.browser import Browser, Settings
    from ...engine.nettrace.demo import NAMES
    from ...engine.nettrace.tls_step import make_context
    from ...engine.nettrace.url_parse import parse_url

    timeout, km = _seconds(args.timeout), _km(args.km)
    # `is not None`: an empty --repeat "" is a mistake to report, not a missing option.
    repeat = parse_count(args.repeat, "--repeat", MAX_REPEAT) if args.repeat is not None else 1
    if args.demo is None and not args.url:
        raise CLIError("give a URL, or --demo for the loopback internet")
    if args.demo is not None and args.url:
        raise CLIError("give a URL or --demo, not both")
    if args.demo is not None and args.demo not in (*NAMES, "list"):
        raise CLIError(f"no demo called {args.demo!r}; try: list, {', '.join(NAMES)}")
    if args.trust_demo_ca and args.demo is None:
        raise CLIError("--trust-demo-ca goes with --demo (its CA exists only there)")
    if args.cold_warm and args.repeat is not None:
        raise CLIError("give --cold-warm or --repeat, not both")
    if args.cafile is not None:
        if not os.path.isfile(args.cafile):
            raise CLIError(f"--cafile {args.cafile}: " + (
                "not a regular file" if os.path.exists(args.cafile) else "no such file"))
        try:  # a bad --cafile is a usage error, before any step (with --demo too)
            make_context(cafile=args.cafile)
        except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
            raise CLIError(f"--cafile {args.cafile}: not a PEM file of certificates "
                           f"({error})") from None
    common = dict(timeout=timeout, insecure=args.insecure, cafile=args.cafile,
                  walk=not args.no_walk, distance_km=km)
    if args.demo is not None:
        return _demo(args, out, common, repeat)
    try:
        parse_url(args.url)
    except ValueError as error:
        raise CLIError(str(error)) from None
    with Browser(Settings(**common)) as browser:
        return _visits(args.url, browser, args, out, repeat)


def _demo(args, out: Output, common: dict, repeat: int) -> int:
    from ...engine.nettrace.browser import Browser
    from ...engine.nettrace.demo import DemoInternet

    with DemoInternet(timeout=common["timeout"]) as net:
        if args.demo == "list":
            for demo in net.urls.values():
                out.emit({"name": demo.name, "url": demo.url, "shows": demo.shows},
                         f"{demo.name:<11} {demo.shows}")
            return 0
        demo = net.urls[args.demo]
        overrides = {k: v for k, v in common.items() if k != "timeout"}
        browser = Browser(net.settings(trust_ca=args.trust_demo_ca, **overrides))
        out.text(f"the loopback internet: {demo.url} — {demo.shows}")
        if not args.trust_demo_ca and not args.insecure and demo.url.startswith("https"):
            out.text("(its CA is not trusted yet: add --trust-demo-ca to trust it)")
        with browser:
            return _visits(demo.url, browser, args, out, repeat)


def _visits(url: str, browser, args, out: Output, repeat: int) -> int:
    from ...engine.nettrace import report
    from ...engine.nettrace.visit import COLD_WARM, cold_warm, run_visit

    if args.cold_warm:
        visits = cold_warm(url, browser, on_visit=lambda v: _print(v, out, args, COLD_WARM))
        if len(visits) > 1:
            out.text("")
            out.text("\n".join(report.compare_lines(visits, COLD_WARM[:len(visits)])))
            out.text("(↺ = TLS session resumed)")
    else:
        visits = []
        for _ in range(repeat):
            visit = run_visit(url, browser)
            visits.append(visit)
            _print(visit, out, args, None, brief=args.brief or len(visits) > 1)
            if not visit.ok:
                break
        if len(visits) > 1:
            rows = report.phase_percentiles(visits)
            out.emit({"percentiles": rows}, "\n" + "\n".join(report.percentile_lines(rows)))
    failed = next((v for v in visits if not v.ok), None)
    if failed is not None:
        raise CommandFailed(failed.error or "cancelled")
    return 0


def _print(visit, out: Output, args, labels, brief: bool = False) -> None:
    from ...engine.nettrace import report

    name = labels[visit.run] if labels and visit.run < len(labels) else (
        "cold" if visit.run == 0 else "warm")
    out.text(f"\nvisit {visit.run + 1} ({name}): {report.ms(visit.total)} in all")
    for step in visit.steps:
        record = {"url": visit.typed, "run": visit.run, **step.to_json()}
        out.emit(record, report.headline(step))
        if not (brief or args.brief):
            for line in report.step_lines(step):
                out.text("      " + line)
