"""Start the SSH server, say how to connect, and run until Ctrl+C (or SIGTERM / SIGHUP)."""

from __future__ import annotations

import asyncio
import signal
import sys

from ...engine.interview.passwords import PasswordFileError
from ...engine.interview.record import sessions_root
from ..cli.output import CLIError, Output
from .host_key import HostKeyError, default_host_key_path, load_or_create_host_key
from .log import ConnectionLog
from .server import KeysFileError, ServeOptions, bound_port, start_server, stop_server

ALL_INTERFACES = ("0.0.0.0", "::", "")


async def serve(options: ServeOptions, out: Output, json_lines: bool = False) -> int:
    path = options.host_key or default_host_key_path()
    try:
        host_key, created = load_or_create_host_key(path)
    except (HostKeyError, OSError) as error:
        raise CLIError(f"host key: {error}") from None
    if options.host in ALL_INTERFACES:
        sys.stderr.write("microgpt-tui: warning: listening on every network interface; anyone "
                         "who can reach this machine can try to log in\n")
    root = options.sessions_root or sessions_root()
    log = ConnectionLog(root.parent / "serve-log.jsonl", json_lines=json_lines)
    try:
        acceptor, hub = await start_server(options, host_key, log)
    except (KeysFileError, PasswordFileError) as error:
        raise CLIError(str(error)) from None
    except OSError as error:
        raise CLIError(f"cannot listen on {options.host}:{options.port}: "
                       f"{error.strerror or error}") from None
    port = bound_port(acceptor)
    fingerprint = host_key.get_fingerprint("sha256")
    mode = "pair room" if options.pair else "an app per connection"
    out.emit({"host": options.host, "port": port, "fingerprint": fingerprint,
              "host_key": str(path), "new_host_key": created, "pair": options.pair},
             f"Serving microgpt-tui ({mode}) on {options.host}:{port}\n"
             f"Host key {fingerprint} ({'new, ' if created else ''}{path})\n"
             f"Connect: ssh -p {port} {options.host}    Stop: Ctrl+C")
    log.event("server", who=None, address=f"{options.host}:{port}", reason="listening")
    stop = asyncio.Event()
    install_stop_signals(stop)
    try:
        await stop.wait()
    finally:
        await stop_server(acceptor, hub)
    return 0


def install_stop_signals(stop: asyncio.Event) -> None:
    """Ctrl+C, SIGTERM and SIGHUP end the server cleanly (apps save their notes)."""
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(number, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
