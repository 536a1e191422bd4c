"""Words and numbers about a visit, shared by the URL screen and `microgpt-tui http`: each step's
facts as lines, what the phase does (the explanation panel), the waterfall, cold vs warm and
p50/p95 per phase over repeated visits.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..stats import nearest_rank
from .steps import PHASE_TITLES, PHASES, Step, Visit

WHAT_IT_DOES = {
    "parse": "The address bar decides: a URL or a search? A URL splits into scheme, host, port "
             "and path; an international name becomes ASCII (IDNA), since DNS only carries "
             "ASCII.",
    "dns": "The host name becomes an IP address. The browser asks the operating system's stub "
           "resolver, which asks a recursive resolver (caches first, at every level: browser, "
           "OS, resolver, each for the answer's TTL).",
    "walk": "What a recursive resolver does on a cold cache: ask a root server (it refers to "
            "the TLD's servers), then the TLD's (they refer to the domain's), then the "
            "domain's authoritative server, which answers. Each query is one round trip.",
    "tcp": "Three packets: SYN →, ← SYN-ACK, ACK →. The connection is ready after one round "
           "trip. With several addresses, Happy Eyeballs (RFC 8305) races them, 250 ms apart, "
           "and the first to answer wins.",
    "tls": "ClientHello (ciphers, a key share, SNI, ALPN) → ServerHello, the certificate chain "
           "and Finished, all in one round trip with TLS 1.3 (two with 1.2). The client checks "
           "the chain up to a root it trusts, the name and the dates. A resumed session skips "
           "the certificate.",
    "http": "The request goes out and the response comes back: status line, headers, body. "
            "HTTP/1.1 is text, one request at a time per connection; HTTP/2 is binary frames "
            "on streams, many at once on one connection. Time to first byte = one round trip "
            "+ the server's work.",
    "render": "The browser parses the HTML into the DOM, the CSS into the CSSOM, builds the "
              "render tree, lays out every box, paints and composites — while more requests "
              "fetch the stylesheets, scripts and images the page names.",
}


def ms(seconds: float) -> str:
    value = seconds * 1e3
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def headline(step: Step) -> str:
    """One line: the phase, its time and what happened."""
    state = "skipped" if step.skipped else ("FAILED" if not step.ok else ms(step.elapsed))
    hop = f"[{step.hop}] " if step.hop else ""
    text = step.error if not step.ok else step.title
    return f"{hop}{PHASE_TITLES[step.phase]:<9}{state:>10}  {text}"


def step_lines(step: Step) -> list[str]:
    """The step's facts, a line each (what the screen's detail pane and `http -v` show)."""
    d = step.detail
    lines: list[str] = []
    if step.skipped:  # a skipped step's facts are the earlier step's: said once, there
        return [f"skipped: {step.skipped}"]
    if step.aside:
        lines.append("beside the visit: a resolver's walk on a cold cache, re-enacted; its "
                     "time is not in the visit's total")
    if step.phase == "parse":
        lines += [f"typed: {step.detail.get('typed', '')}"] if "fetch_url" not in d else [
            f"URL: {d['fetch_url']}", f"decision: {d['reason']}",
            f"host: {d['host']}" + (f" → {d['ascii_host']} (IDNA)" if d["international"] else ""),
            f"port: {d['port']}   path: {d['path']}"]
    elif step.phase == "dns":
        if d.get("source"):
            lines.append(f"asked: {d['source']}")
        lines += [f"address: {a}" for a in d.get("addresses", [])]
        lines += [f"record: {r}" for r in d.get("records", [])]
        if d.get("ttl") is not None:
            lines.append(f"TTL: {d['ttl']} s (how long caches may keep it)")
    elif step.phase == "walk":
        for i, q in enumerate(d.get("queries", []), 1):
            what = (f"→ refers to {q['zone']} ({', '.join(q['referral'][:2])})"
                    if q["kind"] == "referral" else
                    f"→ {q['kind']}: {'; '.join(q['answers'][:2]) or q.get('error') or ''}")
            lines.append(f"{i}. ask {q['server']} for {q['qname']} {q['qtype']} "
                         f"({q['elapsed_ms']:.1f} ms) {what}")
    elif step.phase == "tcp":
        for a in d.get("attempts", []):
            lines.append(f"attempt {a['address']} at +{a['started_ms']:.1f} ms: {a['outcome']} "
                         f"after {a['elapsed_ms']:.1f} ms")
        if d.get("why"):
            lines.append(f"winner: {d.get('remote', '')}, {d['why']}")
        if d.get("local"):
            lines.append(f"local {d['local']} → remote {d.get('remote', '')}")
        lines += light_lines(d)
    elif step.phase == "tls":
        if d.get("version"):
            lines.append(f"{d['version']} · {d['cipher']} ({d['bits']} bits) · ALPN "
                         f"{d.get('alpn') or 'none'} · SNI {d.get('sni')}")
            lines.append("key exchange group: " + (d.get("group") or
                                                   "not exposed by this Python's ssl module"))
            lines.append("session resumed: " + ("yes (no certificate sent)"
                                                if d.get("session_reused") else "no"))
            lines.append("verified: " + ("yes" if d.get("verified") else
                                         "NO — verification was switched off (--insecure)"))
        if d.get("verify_error"):
            lines.append(f"verification failed: {d['verify_error']}")
        if d.get("chain"):
            lines.append(f"certificate chain ({d.get('chain_source', '')}):")
            lines += chain_lines(d["chain"])
    elif step.phase == "http":
        if d.get("request"):
            lines.append("sent:")
            lines += ["  " + line for line in d["request"].rstrip("\r\n").split("\r\n")
                      if line] if "\r\n" in d["request"] else [
                "  " + line for line in d["request"].splitlines()]
            lines.append(f"received: {d['version']} {d['status']} {d['reason']}".rstrip())
            lines += ["  " + h for h in d.get("headers", [])]
            lines.append(f"time to first byte {d['ttfb_ms']:.1f} ms · body {d['body_bytes']:,} B"
                         f" · connection {'kept open' if d['keep_alive'] else 'closed'}")
            if d.get("frames"):
                from .http2 import frames_table

                lines.append("HTTP/2 frames:")
                lines += ["  " + line for line in frames_table(d["frames"])]
            lines += light_lines(d)
    elif step.phase == "render":
        if d.get("page_title"):
            lines.append(f"title: {d['page_title']}")
        if d.get("outline"):
            lines.append(f"DOM ({d['elements']} elements, depth {d['depth']}):")
            lines += ["  " + line for line in d["outline"]]
        lines += [f"then fetches: {r}" for r in d.get("subresources", [])]
        lines += d.get("stages", [])
    return lines


def chain_lines(chain: Sequence[dict]) -> list[str]:
    lines = []
    for i, cert in enumerate(chain):
        role = "leaf" if i == 0 else ("root" if cert.get("self_signed") else "intermediate")
        lines.append(f"  {i}. {role}: {cert['subject']}")
        lines.append(f"     issuer {cert['issuer']}")
        if cert.get("sans"):
            lines.append(f"     names {', '.join(cert['sans'][:4])}")
        lines.append(f"     valid {cert['not_before'][:10]} … {cert['not_after'][:10]} · "
                     f"{cert['key']}")
    return lines


def light_lines(d: dict) -> list[str]:
    """The speed-of-light comparison for one round trip."""
    if "rtt_ms" not in d:
        return []
    rtt = d["rtt_ms"]
    if d.get("distance_km") == 0:
        return [f"round trip {rtt:.2f} ms to this machine: light needs ~0, so all of it is "
                "software, not distance"]
    if d.get("light_floor_ms") is not None:
        share = d.get("light_share")
        return [f"round trip {rtt:.1f} ms; light in fibre needs ≥ {d['light_floor_ms']:.1f} ms "
                f"for {d['distance_km']:,.0f} km and back"
                + (f" ({share:.0%} of it)" if share is not None else "")]
    return [f"round trip {rtt:.1f} ms: light in fibre gets at most {d['farthest_km']:,} km away "
            "and back in that time (the server's distance is not known, so no floor)"]


def explain(step: Step) -> str:
    """The explanation panel's text for a step: what the phase does, then what happened here."""
    lines = [WHAT_IT_DOES[step.phase], ""]
    lines += [headline(step).strip(), ""] + step_lines(step)
    return "\n".join(lines)


def waterfall(visit: Visit, width: int = 40) -> list[str]:
    """httpstat's picture in text: each step's bar placed on one time axis."""
    total = max(visit.total, 1e-9)
    rows = []
    for step in visit.steps:
        first = int(step.started / total * width)
        length = 0 if step.skipped else max(1, round(step.elapsed / total * width))
        bar = " " * min(first, width - 1) + ("·" if step.skipped else "█" * length)
        rows.append(f"{headline(step)[:48]:<48} |{bar[:width]:<{width}}|")
    return rows


def phase_percentiles(visits: Sequence[Visit]) -> list[dict]:
    """p50 and p95 per phase over `visits` (nearest rank), counting only visits where the
    phase ran; how often it was skipped is said beside it. The total comes last."""
    rows = []
    for phase in PHASES:
        ran = [v.phase_time(phase) for v in visits
               if any(s.phase == phase and not s.skipped for s in v.steps)]
        skipped = sum(1 for v in visits if any(s.phase == phase and s.skipped for s in v.steps)
                      and not any(s.phase == phase and not s.skipped for s in v.steps))
        if not ran and not skipped:
            continue
        rows.append({"phase": phase, "runs": len(ran), "skipped": skipped,
                     "p50_ms": round(nearest_rank(ran, 50) * 1e3, 3) if ran else None,
                     "p95_ms": round(nearest_rank(ran, 95) * 1e3, 3) if ran else None})
    totals = [v.total for v in visits]
    if totals:
        rows.append({"phase": "total", "runs": len(totals), "skipped": 0,
                     "p50_ms": round(nearest_rank(totals, 50) * 1e3, 3),
                     "p95_ms": round(nearest_rank(totals, 95) * 1e3, 3)})
    return rows


def percentile_lines(rows: Sequence[dict]) -> list[str]:
    lines = [f"{'phase':<10}{'p50':>11}{'p95':>11}  runs"]
    for row in rows:
        title = PHASE_TITLES.get(row["phase"], row["phase"])
        p50 = "—" if row["p50_ms"] is None else f"{row['p50_ms']:.2f} ms"
        p95 = "—" if row["p95_ms"] is None else f"{row['p95_ms']:.2f} ms"
        skipped = f" (skipped in {row['skipped']})" if row["skipped"] else ""
        lines.append(f"{title:<10}{p50:>11}{p95:>11}  {row['runs']}{skipped}")
    return lines


def compare_lines(visits: Sequence[Visit], labels: Sequence[str]) -> list[str]:
    """Phase by phase, side by side: what each visit took, or why it skipped the phase."""
    width = 14
    lines = [f"{'phase':<10}" + "".join(f"{label:>{width}}" for label in labels)]
    for phase in PHASES:
        cells = []
        for visit in visits:
            steps = [s for s in visit.steps if s.phase == phase]
            if not steps:
                cells.append("—")
            elif all(s.skipped for s in steps):
                cells.append("skipped")
            else:
                resumed = any(s.detail.get("session_reused") for s in steps)
                cells.append(ms(visit.phase_time(phase)) + (" ↺" if resumed else ""))
        lines.append(f"{PHASE_TITLES[phase]:<10}" + "".join(f"{c:>{width}}" for c in cells))
    lines.append(f"{'total':<10}" + "".join(f"{ms(v.total):>{width}}" for v in visits))
    return lines
