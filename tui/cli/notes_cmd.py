"""`microgpt-tui notes`: the recorded interview sessions, and each one's write-up."""

from __future__ import annotations

from typing import Any

from ...engine.files import WriteRefused, atomic_write_bytes
from ...engine.interview.record import (
    Session,
    SessionError,
    list_sessions,
    open_session,
    sessions_root,
)
from ...engine.interview.writeup import local_date_time, plain, writeup_markdown
from .output import CLIError, CommandFailed, Output, to_json

HELP = (
    "The interview sessions on record (newest first), one session's write-up (who came, a "
    "timeline of screens, runs and hand-overs, the shared notes), or its export to a file. "
    "The interviewer's private notes and rubric are left out unless --private is given. "
    "With --json: one object per session (list), or the session's meta, events and notes as "
    "JSON lines (show, export). Sessions are kept in the user data folder "
    "($MICROGPT_TUI_SESSIONS overrides it)."
)
ACTIONS = ("list", "show", "export")


def add_arguments(parser) -> None:
    parser.add_argument("action", nargs="?", choices=ACTIONS, default="list",
                        help="list the sessions (default), show one, or export one")
    parser.add_argument("session_id", nargs="?", metavar="ID",
                        help="the session to show or export, as `notes list` names it")
    parser.add_argument("--markdown", action="store_true",
                        help="export the write-up as Markdown (the default; --json exports "
                        "the record as JSON lines instead)")
    parser.add_argument("--output", metavar="FILE",
                        help="export into FILE (written atomically) instead of stdout")
    parser.add_argument("--private", action="store_true",
                        help="include the interviewer's private notes and rubric")


def run(args, out: Output) -> int:
    _check_arguments(args)
    if args.action == "list":
        return _list(out)
    try:
        session = open_session(args.session_id)
        if out.json_mode:
            content = "".join(to_json(record) + "\n" for record in _records(session, args.private))
        else:
            content = writeup_markdown(session, include_private=args.private)
    except SessionError as error:
        raise CLIError(str(error)) from None
    if args.output is None:
        out.raw(content)
        return 0
    try:
        atomic_write_bytes(args.output, content.encode("utf-8"))
    except WriteRefused as error:
        raise CLIError(f"{args.output}: cannot write ({error.why})") from None
    except OSError as error:
        raise CommandFailed(f"{args.output}: cannot write ({error.strerror or error})") from None
    out.emit({"exported": session.id, "output": args.output, "bytes": len(content.encode())},
             f"wrote the {'record' if out.json_mode else 'write-up'} of {session.id} "
             f"to {args.output}")
    return 0


def _check_arguments(args) -> None:
    """The usage errors: which options go with which action."""
    if args.action == "list":
        if args.session_id is not None:
            raise CLIError("`notes list` takes no ID; `notes show ID` shows one session")
        if args.private or args.output is not None or args.markdown:
            raise CLIError("--private, --output and --markdown go with show or export")
        return
    if args.session_id is None:
        raise CLIError(f"`notes {args.action}` needs a session ID (`notes list` shows them)")
    if args.action == "show" and (args.output is not None or args.markdown):
        raise CLIError("--output and --markdown go with export (`notes export ID --markdown`)")
    if args.markdown and args.json:
        raise CLIError("choose --markdown or --json, not both")


def _list(out: Output) -> int:
    try:
        sessions = list_sessions()
    except SessionError as error:
        raise CLIError(str(error)) from None
    rows = []
    for session in sessions:
        try:
            rows.append(_summary(session))
        except SessionError:  # removed or damaged since it was listed
            continue
    if not rows:
        out.text(f"no sessions recorded yet (in {sessions_root()})")
        return 0
    id_width = max(len(row["id"]) for row in rows)
    out.text(f"{'ID':<{id_width}}  {'STARTED':<16}  {'MODE':<6}  {'EVENTS':>6}  WHO")
    for row in rows:
        events = "?" if row["events"] is None else f"{row['events']:,}"
        # 36 columns go to the started, mode and events columns and the gaps: 80 in all
        who = plain(", ".join(row["who"]), max(20, 80 - id_width - 36)) or "-"
        out.emit(row, f"{row['id']:<{id_width}}  {row['started_local']:<16}  "
                      f"{plain(row['mode'], 6):<6}  {events:>6}  {who}")
    return 0


def _summary(session: Session) -> dict[str, Any]:
    """One row of `notes list`; a record that cannot be read counts its events as unknown."""
    meta = session.meta()
    try:
        events: list | None = session.events()
    except SessionError:
        events = None
    who: list[str] = []
    for event in events or []:
        if event.kind == "joined" and event.who and plain(event.who) not in who:
            who.append(plain(event.who))
    return {
        "id": session.id,
        "started": meta["started"],
        "started_local": local_date_time(meta["started"], seconds=False),
        "mode": meta["mode"],
        "who": who,
        "events": None if events is None else len(events),
        "path": str(session.folder),
    }


def _records(session: Session, include_private: bool):
    """The session as JSON records: its meta, every event, then its notes."""
    yield {"type": "session", "id": session.id, "path": str(session.folder),
           "meta": session.meta()}
    for event in session.events():
        yield {"type": "event", "kind": event.kind, "text": event.text, "who": event.who,
               "data": event.data, "t": event.t}
    files = [session.notes_path] + ([session.private_path, session.rubric_path]
                                    if include_private else [])
    for path in files:
        yield {"type": "notes", "file": path.name, "text": session.read_text(path)}
