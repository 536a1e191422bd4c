"""A session's record as an interview write-up in Markdown: who came, what happened when, and
the notes (the interviewer's private notes and rubric only when asked for).

Every event kind the server and the app write has its own sentence, built from the event's
numbers so the write-up reads the same whoever wrote it; an unknown kind, or an event missing its
numbers, falls back to the event's own text. Everything from the record is text someone typed or
a client sent (an SSH user name included): control characters are replaced, so printing a
write-up to a terminal can never send it escape sequences.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .record import Event, Session

MODES = {"pair": "pair room", "served": "served over SSH", "local": "local app"}
NOTES_GAP = 120.0  # notes saves closer than this (nothing between) make one timeline line
FIELD_CHARS = 80  # a name, screen or reason longer than this is cut (a client chose it)

# C0 and C1 controls (ESC starts terminal escape sequences), line separators and the bidi
# overrides that can make text read differently from what it is; tab and newline are handled
# by the callers.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_HEADING = re.compile(r"^( {0,3})(#{1,6})(?=\s|$)")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def plain(text: str, limit: int = FIELD_CHARS) -> str:
    """One line of safe text: whitespace runs as one space, controls as U+FFFD, cut at `limit`."""
    line = _UNSAFE.sub("\ufffd", re.sub(r"[\t\n\r]+", " ", text)).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def safe_block(text: str) -> str:
    """Many lines of safe text (notes): newlines and tabs kept, other controls as U+FFFD."""
    return _UNSAFE.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))


def clock(stamp: float) -> str:
    """Local time of day, HH:MM:SS."""
    return time.strftime("%H:%M:%S", time.localtime(stamp))


def local_date_time(stamp: float, seconds: bool = True) -> str:
    return time.strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""), time.localtime(stamp))


def short_fingerprint(fingerprint: str) -> str:
    """SHA256:AbCdEfGh…wXyZ: enough to tell keys apart in a write-up."""
    kind, colon, digest = plain(fingerprint, 200).partition(":")
    if not colon:
        kind, digest = "", kind
    shown = digest if len(digest) <= 13 else f"{digest[:8]}…{digest[-4:]}"
    return f"{kind}:{shown}" if kind else shown


def duration(seconds: float) -> str:
    """1 h 05 min, 12 min 30 s, 45 s."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def number(value: float) -> str:
    """Six significant digits; … where digits were cut (3.14159…)."""
    if isinstance(value, int):
        if abs(value) < 10**15:
            return f"{value:,}"
        digits = str(abs(value))  # written out: it may be beyond a float's range
        cut = "…" if digits[6:].strip("0") else ""
        return f"{'-' if value < 0 else ''}{digits[0]}.{digits[1:6]}{cut}e+{len(digits) - 1}"
    shown = f"{value:.6g}"
    return shown + "…" if math.isfinite(value) and float(shown) != value else shown


def count(value: float) -> str:
    """A count: 10^9 for a round power of ten from 1,000, else 1,234,567."""
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return number(value)
    whole = int(value)
    digits = str(whole)
    if whole >= 1000 and digits.strip("0") == "1":
        return f"10^{len(digits) - 1}"
    return f"{whole:,}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# How a run's numbers read, by key; other numeric keys read "key value".
_RUN_FIELDS: dict[str, Callable[[float], str]] = {
    "darts": lambda v: f"{count(v)} darts",
    "steps": lambda v: f"{count(v)} steps",
    "samples": lambda v: f"{count(v)} samples",
    "workers": lambda v: f"{count(v)} workers",
    "estimate": lambda v: f"estimate {number(v)}",
    "loss": lambda v: f"loss {number(v)}",
    "seconds": lambda v: f"{v:.3g} s",
}


def run_summary(data: dict[str, Any]) -> str:
    """"pi: 10^9 darts, estimate 3.14159…, 1.3 s" from a run event's numbers; "" if none."""
    parts = []
    for key, value in data.items():
        if key == "screen":
            continue
        if _is_number(value):
            special = _RUN_FIELDS.get(key)
            # An integer past 10^15 is no count, time or estimate a screen makes: junk, shown
            # as it is (the special formats would convert it to a float, which may overflow).
            if special is None or (isinstance(value, int) and abs(value) >= 10**15):
                parts.append(f"{plain(key, 30)} {number(value)}")
            else:
                parts.append(special(value))
        elif isinstance(value, str) and value:
            parts.append(f"{plain(key, 30)} {plain(value)}")
    if not parts:
        return ""
    screen = data.get("screen")
    return (f"{plain(screen)}: " if isinstance(screen, str) and screen else "") + ", ".join(parts)


def _who(event: Event) -> str:
    return plain(event.who) if event.who else "someone"


def _text(key: str, data: dict[str, Any]) -> str:
    value = data.get(key)
    return plain(value) if isinstance(value, str) else ""


def _origin(data: dict[str, Any]) -> str:
    """ from 127.0.0.1, key SHA256:AbCd…wXyZ"""
    address, fingerprint = _text("address", data), _text("fingerprint", data)
    parts = ([f"from {address}"] if address else []) + (
        [f"key {short_fingerprint(fingerprint)}"] if fingerprint else [])
    return " " + ", ".join(parts) if parts else ""


def _joined(event: Event) -> str:
    return f"{_who(event)} joined{_origin(event.data)}"


def _left(event: Event) -> str:
    ended = _text("ended", event.data)
    return f"{_who(event)} left" + (f" ({ended})" if ended else "")


def _refused(event: Event) -> str:
    return plain(event.text) if event.text else f"refused {_who(event)}{_origin(event.data)}"


def _screen(event: Event) -> str | None:
    screen = _text("screen", event.data)
    return f"{_who(event)} opened {screen}" if screen else None


def _run(event: Event) -> str | None:
    summary = run_summary(event.data)
    return f"{_who(event)} ran {summary}" if summary else None


def _baton(event: Event) -> str | None:
    if event.text:
        return plain(event.text)
    driver = _text("driver", event.data)
    return f"{driver} drives" if driver else None


def _notes(event: Event) -> str:
    return f"{_who(event)} saved the notes" if event.who else "notes saved"


def _server(event: Event) -> str:
    return plain(event.text) if event.text else "server " + (_text("state", event.data) or "event")


_SENTENCES: dict[str, Callable[[Event], str | None]] = {
    "joined": _joined, "left": _left, "refused": _refused, "screen": _screen, "run": _run,
    "baton": _baton, "notes": _notes, "server": _server,
}


def sentence(event: Event) -> str:
    """What happened, in one line."""
    describe = _SENTENCES.get(event.kind)
    said = describe(event) if describe else None
    if said:
        return said
    if event.text:
        return plain(event.text)
    numbers = run_summary(event.data)
    return plain(event.kind) + (f" ({_who(event)})" if event.who else "") + (
        f": {numbers}" if numbers else "")


@dataclass
class _Person:
    fingerprints: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    stints: list[str] = field(default_factory=list)  # "09:30:05 to 09:50:00 (disconnected)"
    joined_at: float | None = None  # of the stint still open


def _who_section(events: list[Event]) -> list[str]:
    people: dict[str, _Person] = {}
    refused = 0
    for event in events:
        if event.kind == "refused":
            refused += 1
        if event.kind not in ("joined", "left"):
            continue
        person = people.setdefault(_who(event), _Person())
        if event.kind == "joined":
            for key, seen in (("fingerprint", person.fingerprints), ("address", person.addresses)):
                value = _text(key, event.data)
                shown = short_fingerprint(value) if key == "fingerprint" and value else value
                if shown and shown not in seen:
                    seen.append(shown)
            if person.joined_at is not None:  # joined again without a "left": a lost line
                person.stints.append(f"{clock(person.joined_at)} to ?")
            person.joined_at = event.t
        else:
            start = clock(person.joined_at) if person.joined_at is not None else "?"
            ended = _text("ended", event.data)
            person.stints.append(f"{start} to {clock(event.t)}" + (f" ({ended})" if ended else ""))
            person.joined_at = None
    lines = ["## Who", ""]
    for name, person in people.items():
        if person.joined_at is not None:
            person.stints.append(f"{clock(person.joined_at)} to the end")
        details = [", ".join(f"key {fp}" for fp in person.fingerprints),
                   ", ".join(f"from {address}" for address in person.addresses),
                   "; ".join(person.stints)]
        lines.append(f"- **{name}**: " + "; ".join(detail for detail in details if detail))
    if not people:
        lines.append("Nobody joined over SSH.")
    if refused:
        lines.append(f"- {refused} connection{'s' if refused != 1 else ''} refused "
                     "(see the timeline)")
    return lines


def _timeline_section(events: list[Event], first_day: str) -> list[str]:
    lines = ["## Timeline", ""]
    saves: list[Event] = []  # a run of notes saves, written as one line when it ends

    def stamp(t: float) -> str:  # the date too once the interview has crossed midnight
        return local_date_time(t) if local_date_time(t)[:10] != first_day else clock(t)

    def flush_saves() -> None:
        if saves:
            first, last = saves[0], saves[-1]
            said = sentence(last)
            if len(saves) > 1:
                said += f" ({len(saves)} saves from {clock(first.t)})"
            lines.append(f"- {stamp(last.t)} {said}")
            saves.clear()

    for event in events:
        if event.kind == "notes":
            if saves and (event.t - saves[-1].t > NOTES_GAP or event.who != saves[-1].who):
                flush_saves()
            saves.append(event)
            continue
        flush_saves()
        lines.append(f"- {stamp(event.t)} {sentence(event)}")
    flush_saves()
    if len(lines) == 2:
        lines.append("Nothing was recorded.")
    return lines


def _demote_headings(text: str) -> str:
    """Notes' own headings two levels down, so they sit under the write-up's "## Notes"."""
    lines, fenced = [], False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            line = _HEADING.sub(lambda m: m.group(1) + "#" * min(6, len(m.group(2)) + 2), line)
        lines.append(line)
    return "\n".join(lines)


def _text_section(title: str, text: str, empty: str) -> list[str]:
    body = _demote_headings(safe_block(text)).strip()
    return [f"## {title}", "", body or f"_{empty}_"]


def writeup_markdown(session: Session, include_private: bool = False) -> str:
    """The write-up of `session` as Markdown. The interviewer's private notes and rubric are in
    it only with `include_private`. Raises SessionError for a session that cannot be read."""
    meta = session.meta()
    events = session.events()
    started: float = meta["started"]
    mode = plain(meta["mode"])
    facts = [f"Session `{plain(session.id)}`", f"started {local_date_time(started)}"]
    if events:
        facts.append(f"lasted {duration(events[-1].t - started)}")
    facts.append(f"{len(events)} event{'s' if len(events) != 1 else ''}")
    lines = [f"# Interview, {local_date_time(started, seconds=False)} "
             f"({MODES.get(mode, mode)})", "", "; ".join(facts) + ".", ""]
    lines += _who_section(events) + [""]
    lines += _timeline_section(events, local_date_time(started)[:10]) + [""]
    lines += _text_section("Notes", session.read_text(session.notes_path),
                           "No shared notes were saved.")
    private = session.read_text(session.private_path)
    rubric = session.read_text(session.rubric_path)
    if include_private:
        lines += [""] + _text_section("Interviewer's private notes", private, "None saved.")
        lines += [""] + _text_section("Rubric", rubric, "None saved.")
    elif private.strip() or rubric.strip():
        lines += ["", "_The interviewer's private notes and rubric are not included._"]
    return "\n".join(lines) + "\n"
