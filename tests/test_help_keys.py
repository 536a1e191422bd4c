"""The help's key list: each description wraps under its own column, sections apart."""

from __future__ import annotations

from microgpt_tui.tui.modals.help import COLUMN_GAP, key_lines

SECTIONS = [
    ("This screen", [("n/→", "Step forward"), ("?", "Show keys and what each one does here")]),
    ("Everywhere", [("ctrl+p", "Command palette")]),
]


def plain(width: int) -> list[str]:
    return [line.plain for line in key_lines(SECTIONS, width)]


def test_keys_share_one_column_and_sections_are_apart():
    indent = len("ctrl+p") + COLUMN_GAP
    assert plain(80) == [
        "This screen",
        "n/→".ljust(indent) + "Step forward",
        "?".ljust(indent) + "Show keys and what each one does here",
        "",
        "Everywhere",
        "ctrl+p".ljust(indent) + "Command palette",
    ]


def test_a_long_description_wraps_under_its_own_column():
    indent = len("ctrl+p") + COLUMN_GAP
    lines = plain(indent + 20)
    at = lines.index("?".ljust(indent) + "Show keys and what")
    assert lines[at + 1] == " " * indent + "each one does here"
    assert all(len(line) <= indent + 20 for line in lines)


def test_keys_are_bold_and_section_titles_italic():
    first_key = key_lines(SECTIONS, 80)[1]
    assert any("bold" in str(span.style) for span in first_key.spans)
    title = key_lines(SECTIONS, 80)[0]
    assert any("italic" in str(span.style) for span in title.spans)
