"""`microgpt-tui serve --web`: the app in a browser through textual-serve (an optional extra),
for when SSH is not available. Each browser tab gets its own app (textual-serve's web driver
draws it; the mouse works there)."""

from __future__ import annotations

import shlex
import sys

from ..cli.output import CLIError, Output
from .main import ALL_INTERFACES

INSTALL_HINT = "serve --web needs textual-serve: pip install 'microgpt-tui[web]'"


def web_command(options) -> str:
    """The command textual-serve runs for each browser session."""
    return shlex.join([sys.executable, "-m", "microgpt_tui", *options.app_args])


def serve_web(options, out: Output) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        raise CLIError(INSTALL_HINT) from None
    if options.host in ALL_INTERFACES:
        sys.stderr.write("microgpt-tui: warning: listening on every network interface; the "
                         "browser app has no login\n")
    out.emit({"host": options.host, "port": options.port, "web": True},
             f"Serving microgpt-tui in the browser at http://{options.host}:{options.port}")
    Server(web_command(options), host=options.host, port=options.port).serve()
    return 0
