"""The views line of a screen with several views: " 1 Race  2 Tiling … v next view", the view
on show reversed (read without colour), the others muted."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content


def tabs_line(titles: Sequence[str], current: int, hint: str = "v next view") -> Content:
    """`titles` numbered from 1; `current` is the index of the view on show."""
    parts: list[str | tuple[str, str]] = []
    for index, title in enumerate(titles):
        parts.append((f" {index + 1} {title} ",
                      "reverse bold" if index == current else "$text-muted"))
    parts.append((f"  {hint}", "$text-muted"))
    return Content.assemble(*parts)
