"""What every loopback server (and the demo internet made of them) shares: `start()` and
`stop()`, and `with server:` for both, so a test or a command can never leave one running."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class StartStop:
    def start(self) -> object:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
