"""The views line of a screen with several views: " 1 Race  2 Tiling … v next view", the view
on show reversed (read without colour), the others muted. Given a width, a line that would not
fit drops the hint, then shows the other views by number only: every view stays reachable."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content


def tabs_line(titles: Sequence[str], current: int, hint: str = "v next view",
              width: int | None = None) -> Content:
    """`titles` numbered from 1; `current` is the index of the view on show."""
    for short, with_hint in ((False, True), (False, False), (True, False)):
        parts: list[str | tuple[str, str]] = []
        for index, title in enumerate(titles):
            if index == current:
                parts.append((f" {index + 1} {title} ", "reverse bold"))
            else:
                parts.append((f" {index + 1} " if short else f" {index + 1} {title} ",
                              "$text-muted"))
        if with_hint and hint:
            parts.append((f"  {hint}", "$text-muted"))
        line = Content.assemble(*parts)
        if width is None or line.cell_length <= width:
            break
    return line
