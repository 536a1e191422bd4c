"""Step 6: what the browser does with the HTML — a small DOM outline of the response itself.

The real thing builds the DOM, the CSSOM from the stylesheets, the render tree from both, then
lays out, paints and composites. Here the response's own HTML is parsed (the stdlib's tolerant
HTMLParser) into an outline of its elements and the further requests it would cause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
MAX_NODES = 400  # parse at most this many elements: the outline is a sketch, not a browser


@dataclass
class DomOutline:
    lines: list[str] = field(default_factory=list)  # "  body > main#content .card"
    elements: int = 0
    depth: int = 0
    title: str = ""
    subresources: list[str] = field(default_factory=list)  # "stylesheet /site.css", "script …"
    truncated: bool = False


class _Outliner(HTMLParser):
    def __init__(self, max_lines: int) -> None:
        super().__init__(convert_charrefs=True)
        self.outline = DomOutline()
        self.stack: list[str] = []
        self.max_lines = max_lines
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = self.outline
        if found.elements >= MAX_NODES:
            found.truncated = True
            return
        found.elements += 1
        values = {key: value or "" for key, value in attrs}
        label = tag + (f"#{values['id']}" if values.get("id") else "") + "".join(
            f".{name}" for name in values.get("class", "").split()[:2])
        if len(found.lines) < self.max_lines:
            found.lines.append("  " * len(self.stack) + label)
        else:
            found.truncated = True
        found.depth = max(found.depth, len(self.stack) + 1)
        if tag == "link" and "stylesheet" in values.get("rel", "") and values.get("href"):
            found.subresources.append(f"stylesheet {values['href']}")
        elif tag in ("script", "img", "iframe") and values.get("src"):
            found.subresources.append(f"{tag} {values['src']}")
        self.in_title = tag == "title"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:  # tolerate unclosed elements, as browsers do
            while self.stack and self.stack.pop() != tag:
                pass
        self.in_title = False

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.outline.title += data.strip()


def dom_outline(html: str, max_lines: int = 40) -> DomOutline:
    parser = _Outliner(max_lines)
    parser.feed(html)
    parser.close()
    return parser.outline


RENDER_STAGES = (
    ("DOM", "the HTML parsed into a tree of elements (below, this page's own)"),
    ("CSSOM", "every stylesheet parsed into rules; styles are computed for each element"),
    ("Render tree", "the visible elements with their computed styles (display:none left out)"),
    ("Layout", "each box's position and size, from the viewport's width down"),
    ("Paint", "the boxes turned into draw commands: text, colours, borders, images"),
    ("Composite", "painted layers put together, often on the GPU, and shown"),
)
