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
from .output import CLIError, Output, seed_type

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
        print(f"{PROG} {package_version()}")
        parser.exit()


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CLIError(f"{message} (see {self.prog} --help)")


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


def run_app(args: argparse.Namespace) -> int:
    from ..app import MicroGPTApp

    if args.data is not None:
        from ...engine.data import DatasetError, read_names_file

        try:
            read_names_file(args.data)
        except DatasetError as error:
            raise CLIError(str(error)) from None
    # The user's last theme comes back; an explicit --theme wins and is remembered.
    app = MicroGPTApp(seed=args.seed, data_path=args.data, remember_theme=True)
    if args.theme is not None:
        if args.theme not in app.available_themes:
            names = ", ".join(sorted(app.available_themes))
            raise CLIError(f"unknown theme {args.theme!r}; choose one of: {names}")
        app.theme = args.theme
    app.run()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = _chosen_command(argv)
    try:
        parser = build_parser(command)
        args = parser.parse_args(argv)
        if args.command is None:
            return run_app(args)
        module = importlib.import_module(COMMANDS[args.command].module)
        return module.run(args, Output(json_mode=args.json))
    except CLIError as error:
        sys.stderr.write(f"{PROG}: error: {error}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        # `microgpt-tui … | head` closed the pipe: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
