"""`microgpt-tui`: no command opens the app; a command runs one feature headless.

The commands are the registry's rows (tui/registry.py), one module each, imported only when
chosen, so `--help` and the app's start stay fast. Each module provides HELP,
add_arguments(parser) and run(args, out) -> int.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ..registry import CommandSpec, all_commands
from .output import (
    CLIError,
    CommandFailed,
    Output,
    OutputError,
    seed_type,
    use_ascii_fallback,
    write,
)

PROG = "microgpt-tui"

COMMANDS: dict[str, CommandSpec] = {command.name: command for command in all_commands()}


def package_version() -> str:
    # importlib.metadata costs ~50 ms at import: only --version pays for it.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("microgpt-tui")
    except PackageNotFoundError:
        return "0+unknown"


class VersionAction(argparse.Action):
    def __init__(self, option_strings, dest, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        write(sys.stdout, f"{PROG} {package_version()}\n")
        parser.exit()


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CLIError(f"{message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        # --help and --version printed into stdout's buffer: flush it here, so a failed write
        # (a full disk) is reported by main(), not as a traceback in Python's exit flush.
        write(sys.stdout, "")
        super().exit(status, message)


def build_parser(command: str | None = None) -> Parser:
    parser = Parser(
        prog=PROG,
        description="Six classic systems/ML interview questions you can run, step through and "
        "measure. With no command, opens the terminal app.",
        epilog=f"'{PROG} COMMAND --help' shows a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument(
        "--seed", type=seed_type, default=0, help="random seed for the app (default 0)"
    )
    # Commands with their own --data leave it unset unless given (default=SUPPRESS), so
    # `microgpt-tui --data F train` trains on F and `--data F train --data G` on G.
    parser.add_argument("--data", metavar="PATH", help="names file (default: cache or download)")
    parser.add_argument("--theme", help="Textual theme, e.g. ansi-dark or ansi-light for SSH")
    parser.add_argument(
        "--low-bandwidth",
        action="store_true",
        help="for slow links: at most 10 frames a second, no mouse, and the terminal's own "
        "palette (ansi-dark, unless --theme or the remembered theme is an ANSI one). On by "
        f"itself when {LOW_BANDWIDTH_ENV}=1 or SSH_CONNECTION is set (the app runs over ssh); "
        "an explicit --theme still wins",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, spec in COMMANDS.items():
        if name != command:  # only the chosen command's module is imported
            sub.add_parser(name, help=spec.help, add_help=False)
            continue
        module = importlib.import_module(spec.module)
        command_parser = sub.add_parser(name, help=spec.help, description=module.HELP)
        command_parser.add_argument(
            "--json", action="store_true", help="print one JSON object per line"
        )
        module.add_arguments(command_parser)
    return parser


def _chosen_command(argv: list[str]) -> str | None:
    """The subcommand named in argv, skipping the values of the global options.

    Only that command's module is imported; a word that is an option's value
    (`--data pi`) is not mistaken for a command.
    """
    pre = Parser(add_help=False)
    for option in ("--seed", "--data", "--theme"):
        pre.add_argument(option)
    pre.add_argument("command", nargs="?")
    try:
        known, _ = pre.parse_known_args(argv)
    except CLIError:
        return None  # the full parser reports the problem
    return known.command if known.command in COMMANDS else None


NO_TERMINAL = "needs a terminal; try a command such as `microgpt-tui pi --darts 1e6`"
# engine/interview/room.py's LOW_BANDWIDTH_ENV, spelt out: importing the engine would slow --help.
LOW_BANDWIDTH_ENV = "MICROGPT_TUI_LOW_BANDWIDTH"
LOW_BANDWIDTH_FPS = "10"
# The interview server starts the interviewer's desk (tui/desk.py) as `microgpt-tui --desk`.
# Hidden, and read before argparse: as a parser option it would make `--d` (kernels' head
# dimension, an abbreviation the main parser resolves) ambiguous.
DESK_FLAG = "--desk"


def low_bandwidth_wanted(flag: bool) -> bool:
    """--low-bandwidth, the server's variable, or a user running the app over their own ssh."""
    return flag or os.environ.get(LOW_BANDWIDTH_ENV) == "1" or bool(
        os.environ.get("SSH_CONNECTION"))


def cap_frame_rate() -> None:
    """Textual reads TEXTUAL_FPS once, when imported: this must run before the app's import.
    A value the user (or the server) set is kept."""
    os.environ.setdefault("TEXTUAL_FPS", LOW_BANDWIDTH_FPS)


# How long a lone ESC waits for the rest of an escape sequence before it counts as the Esc key
# (Textual's default is 100 ms: "back" felt slow). A terminal sends a key's sequence in one
# write, and an SSH client in one packet, so the rest arrives at once. ESCDELAY (ms), as in
# curses; a value the user set is kept. (tui/textual_fixes.py makes Textual keep to it.)
ESCAPE_DELAY_MS = "25"


def quick_escape() -> None:
    """Must run before Textual is imported: it reads ESCDELAY once."""
    os.environ.setdefault("ESCDELAY", ESCAPE_DELAY_MS)


def has_terminal() -> bool:
    """Whether the app can draw and read keys: stdin and stdout both a terminal, or a driver
    chosen for another kind of screen (textual-serve's web driver, `serve --web`)."""
    return bool(os.environ.get("TEXTUAL_DRIVER")) or (sys.stdin.isatty() and sys.stdout.isatty())


def run_desk(options: list[str]) -> int:
    """The interviewer's desk, for the session the server names (nothing to do without one)."""
    from ...engine.interview.record import SESSION_DIR_ENV

    if any(option != "--low-bandwidth" for option in options):
        raise CLIError(f"{DESK_FLAG} takes no options but --low-bandwidth")
    low_bandwidth = low_bandwidth_wanted(bool(options))
    quick_escape()
    if low_bandwidth:
        cap_frame_rate()
    if not os.environ.get(SESSION_DIR_ENV):
        raise CLIError(f"{DESK_FLAG} needs {SESSION_DIR_ENV} (the interview server sets it)")
    if not has_terminal():
        raise CLIError(NO_TERMINAL)
    from ..desk import DeskApp

    app = DeskApp(low_bandwidth=low_bandwidth)
    app.run(mouse=not low_bandwidth)
    return 1 if app.return_code else 0


def run_app(args: argparse.Namespace) -> int:
    low_bandwidth = low_bandwidth_wanted(args.low_bandwidth)
    quick_escape()
    if low_bandwidth:
        cap_frame_rate()
    from ..app import MicroGPTApp

    if args.data is not None:
        # The whole file as training will read it: a file with no usable names is refused
        # now, with the line `microgpt-tui data` gives, not later inside the Training screen.
        from ...engine.data import DatasetError, load_names_from_path

        try:
            load_names_from_path(args.data)
        except DatasetError as error:
            raise CLIError(str(error)) from None
    # The user's last theme comes back; an explicit --theme wins and is remembered.
    # A served app (the server names its session) leaves the operator's settings alone.
    from ...engine.interview.record import SESSION_DIR_ENV

    served = bool(os.environ.get(SESSION_DIR_ENV))
    app = MicroGPTApp(seed=args.seed, data_path=args.data, remember_theme=not served,
                      low_bandwidth=low_bandwidth)
    if args.theme is not None:
        if args.theme not in app.available_themes:
            names = ", ".join(sorted(app.available_themes))
            raise CLIError(f"unknown theme {args.theme!r}; choose one of: {names}")
        app.theme = args.theme
    if not has_terminal():  # Textual would draw into a file or pipe forever
        raise CLIError(NO_TERMINAL)
    app.run(mouse=not low_bandwidth)
    if app.return_code:
        # Textual has printed its traceback panel; the exit status and one line say it too.
        error = app._exception  # Textual keeps a handler's crash only here
        reason = f"{type(error).__name__}: {error}" if error else "see the error above"
        raise CommandFailed(f"the app crashed: {reason}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The CLI; its exit status: 0 done, 1 failed while running, 2 bad usage or input."""
    argv = sys.argv[1:] if argv is None else argv
    use_ascii_fallback()
    command = _chosen_command(argv)
    try:
        if argv[:1] == [DESK_FLAG]:
            return run_desk(argv[1:])
        parser = build_parser(command)
        args = parser.parse_args(argv)
        if args.command is None:
            return run_app(args)
        module = importlib.import_module(COMMANDS[args.command].module)
        return module.run(args, Output(json_mode=args.json))
    except CLIError as error:
        return _report(error, 2)
    except OutputError as error:
        _discard_stdout()  # what is still buffered would fail again in Python's exit flush
        return _report(error, 1)
    except CommandFailed as error:
        return _report(error, 1)
    except KeyboardInterrupt:
        return _report("interrupted", 130, prefix="")
    except BrokenPipeError:
        # `microgpt-tui … | head` closed the pipe: not an error worth a traceback.
        _discard_stdout()
        return 0


def _report(error: Exception | str, status: int, prefix: str = "error: ") -> int:
    """The one line on stderr; if stderr itself refuses it, the exit status still says it."""
    try:
        sys.stderr.write(f"{PROG}: {prefix}{error}\n")
        sys.stderr.flush()
    except OSError:
        pass
    return status


def _discard_stdout() -> None:
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):  # not a file (a test's capture): nothing to flush later
        return
    os.dup2(os.open(os.devnull, os.O_WRONLY), descriptor)


if __name__ == "__main__":
    sys.exit(main())
