"""`microgpt-tui serve`: the app over SSH for an interview (or in a browser with --web)."""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path

from .output import CLIError, CommandFailed, Output

HELP = (
    "Serve the app over SSH: each connection gets the app on a terminal sized to its window. "
    "With --pair, one interview room: the candidate drives, the interviewer (a key in "
    "--interviewer-keys) watches, takes the keyboard with Ctrl+T and keeps private notes with "
    "Ctrl+O; anyone else watches. Connect with `ssh -p PORT HOST`. Binds to 127.0.0.1 unless "
    "--host says otherwise."
)


def add_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on "
                        "(default 127.0.0.1; 0.0.0.0 exposes it to the network)")
    parser.add_argument("--port", type=int, default=None,
                        help="port (default 2222; 8000 with --web; 0 picks a free one)")
    parser.add_argument("--authorized-keys", metavar="FILE", type=Path,
                        help="public keys that may connect (OpenSSH authorized_keys format)")
    parser.add_argument("--interviewer-keys", metavar="FILE", type=Path,
                        help="public keys of interviewers (they may connect too)")
    parser.add_argument("--password-file", metavar="FILE", type=Path,
                        help="allow password logins for the users in FILE (see --add-password)")
    parser.add_argument("--add-password", nargs=2, metavar=("FILE", "USER"),
                        help="set USER's password in FILE (asked on the terminal), then exit")
    parser.add_argument("--pair", action="store_true",
                        help="one shared interview room instead of an app per connection")
    parser.add_argument("--max-sessions", type=int, default=16,
                        help="connections served at once (default 16)")
    parser.add_argument("--idle-timeout", type=float, default=1800.0, metavar="SECONDS",
                        help="disconnect a session after this long without a key (default 1800)")
    parser.add_argument("--record", action="store_true",
                        help="also record the shared screen as an asciinema .cast file")
    parser.add_argument("--host-key", metavar="FILE", type=Path,
                        help="the server's private host key (default: generated once and kept "
                        "in the user data folder)")
    parser.add_argument("--max-cores", type=int, default=None,
                        help="cores one session's heavy work may use (default: a quarter)")
    parser.add_argument("--web", action="store_true",
                        help="serve in a browser instead (needs microgpt-tui[web])")


def run(args, out: Output) -> int:
    if args.add_password:
        return _add_password(Path(args.add_password[0]), args.add_password[1], out)
    options = _options(args)
    if args.web:
        from ..serve.web import serve_web

        return serve_web(options, out)
    from ..serve.main import serve

    return asyncio.run(serve(options, out, json_lines=args.json))


def _options(args):
    from ..serve.server import ServeOptions

    if args.port is not None and not 0 <= args.port <= 65535:
        raise CLIError("--port must be between 0 and 65535")
    if not 1 <= args.max_sessions <= 1000:
        raise CLIError("--max-sessions must be between 1 and 1000")
    if not args.idle_timeout > 0:
        raise CLIError("--idle-timeout must be a positive number of seconds")
    from ...engine.cores import usable_cores

    cores = usable_cores()
    max_cores = args.max_cores if args.max_cores is not None else max(1, cores // 4)
    if not 1 <= max_cores <= cores:
        raise CLIError(f"--max-cores must be between 1 and {cores} (this machine's cores)")
    if not args.web:
        if args.authorized_keys is None and args.interviewer_keys is None \
                and args.password_file is None:
            raise CLIError("nobody could log in: give --authorized-keys, --interviewer-keys or "
                           "--password-file")
        if args.pair and args.interviewer_keys is None:
            raise CLIError("--pair needs --interviewer-keys (who may take the keyboard)")
    for path in (args.authorized_keys, args.interviewer_keys, args.password_file):
        if path is not None and not path.is_file():
            raise CLIError(f"{path}: no such file")
    app_args = ["--seed", str(args.seed)]
    if args.data:
        app_args += ["--data", args.data]
    if args.theme:
        app_args += ["--theme", args.theme]
    return ServeOptions(
        host=args.host, port=args.port if args.port is not None else (8000 if args.web else 2222),
        authorized_keys=args.authorized_keys, interviewer_keys=args.interviewer_keys,
        password_file=args.password_file, pair=args.pair, max_sessions=args.max_sessions,
        idle_timeout=args.idle_timeout, record=args.record, host_key=args.host_key,
        app_args=app_args, max_cores=max_cores,
    )


def _add_password(path: Path, user: str, out: Output) -> int:
    from ...engine.interview.passwords import set_password

    if not user or ":" in user or any(c.isspace() for c in user):
        raise CLIError("a user name must be one word without ':'")
    if not sys.stdin.isatty():
        raise CLIError("--add-password asks for the password on a terminal")
    first = getpass.getpass(f"Password for {user}: ")
    if len(first) < 8:
        raise CLIError("a password needs at least 8 characters")
    if getpass.getpass("Again: ") != first:
        raise CLIError("the two passwords differ; nothing changed")
    try:
        set_password(path, user, first)
    except OSError as error:
        raise CommandFailed(f"cannot write {path}: {error}") from None
    out.emit({"password_file": str(path), "user": user}, f"{user}'s password is set in {path}")
    return 0
