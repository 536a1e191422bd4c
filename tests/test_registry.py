"""One registry row per feature: the CLI, the benchmarks and the home keys are read from it."""

from __future__ import annotations

import importlib.util

from textual.binding import Binding

from microgpt_tui.tui.cli.main import COMMANDS
from microgpt_tui.tui.registry import (
    QUESTIONS,
    all_benchmarks,
    all_commands,
    all_screens,
)
from microgpt_tui.tui.screens.home import HomeScreen


def test_every_row_names_a_module_that_exists():
    modules = [c.module for c in all_commands()] + [b.module for b in all_benchmarks()]
    modules += [s.module.split(":")[0] for _, s in all_screens() if s.module]
    assert [m for m in modules if importlib.util.find_spec(m) is None] == []


def test_names_are_unique():
    for names in (
        [c.name for c in all_commands()],
        [b.name for b in all_benchmarks()],
        [s.screen_id for _, s in all_screens()],
        [q.number for q in QUESTIONS],
    ):
        assert len(names) == len(set(names)), names


def test_the_cli_is_the_registrys_commands():
    assert list(COMMANDS.values()) == all_commands()


def test_the_benchmark_runner_agrees_with_the_registry():
    from microgpt_tui.tui.bench.runner import REGISTRY

    rows = {b.name: (b.module, b.description) for b in all_benchmarks()}
    assert {name: tuple(row) for name, row in REGISTRY.items()} == rows


def test_home_has_one_number_key_per_question():
    keys = {
        b.key: b.description
        for b in HomeScreen.BINDINGS
        if isinstance(b, Binding) and b.key.isdigit()
    }
    assert keys == {str(q.number): q.short_title for q in QUESTIONS}
