"""The headless CLI: version, help, JSON lines, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from microgpt_tui.tui.app import MicroGPTApp, make_app
from microgpt_tui.tui.cli.main import COMMANDS, main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse's --help/--version
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version_and_help(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.startswith("microgpt-tui ")
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    for name in COMMANDS:
        assert name in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(capsys, name):
    code, out, _ = run_cli(capsys, name, "--help")
    assert code == 0
    assert "--json" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["no-such-command"],
        ["--seed", "abc"],
        ["data", "--no-such-flag"],
        ["data", "--data", "/definitely/missing.txt"],
        ["bench", "nonexistent"],
        ["bench", "--rounds", "0"],
        ["--data", "/definitely/missing.txt"],
        ["--theme", "no-such-theme"],
    ],
)
def test_usage_and_input_errors_are_one_line_exit_2(capsys, argv):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("microgpt-tui: error: ")
    assert "Traceback" not in err


def test_data_json_is_one_object_per_line(capsys, full_names_path):
    code, out, _ = run_cli(capsys, "data", "--data", str(full_names_path), "--json")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["names"] == 32033 and record["vocab_size"] == 27 and record["source"] == "path"


def test_data_offline_uses_bundled_corpus_with_notice(capsys):
    code, out, err = run_cli(capsys, "data", "--offline")
    assert code == 0
    assert "bundled" in out
    assert "bundled corpus" in err and err.count("\n") == 1


def test_bad_dataset_through_the_console_script_has_no_traceback(tmp_path):
    script = shutil.which("microgpt-tui") or ""
    argv = [script] if script else [sys.executable, "-m", "microgpt_tui.tui.cli.main"]
    binary = tmp_path / "names.bin"
    binary.write_bytes(b"\x00\xff\x00")
    result = subprocess.run([*argv, "data", "--data", str(binary)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("this looks like a binary file, not a text list of names")
    assert "Traceback" not in result.stderr


def test_bench_list(capsys):
    code, out, _ = run_cli(capsys, "bench", "--list", "--json")
    assert code == 0
    names = [json.loads(line)["bench"] for line in out.splitlines()]
    assert "startup" in names


def test_an_option_value_is_not_taken_for_the_command(capsys, full_names_path, tmp_path):
    """Regression: `--data pi train` built `pi` and crashed on `train` with a traceback."""
    names = tmp_path / "pi"
    names.write_bytes(full_names_path.read_bytes())
    code, out, err = run_cli(
        capsys, "--data", str(names), "data", "--json"
    )
    assert code == 0 and json.loads(out)["location"] == str(names)
    code, out, err = run_cli(capsys, "--data", "pi", "data")
    assert code == 2 and "pi: no such file" in err


@pytest.mark.parametrize("argv", [["--seed", "-1"], ["--seed", "2e3"], ["--seed", str(2**64)]])
def test_seeds_out_of_range_exit_2(capsys, argv):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and err.startswith("microgpt-tui: error: argument --seed: a seed is")


def test_help_imports_no_command_screen_or_textual():
    """`--help` lists every command from the registry without importing any of them."""
    code = (
        "import sys\n"
        "from microgpt_tui.tui.cli.main import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in sys.modules if m.startswith(('textual', 'numpy',"
        " 'microgpt_tui.tui.screens', 'microgpt_tui.tui.bench', 'microgpt_tui.engine'))"
        " or m.endswith('_cmd'))\n"
        "print(heavy, file=sys.stderr)\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert all(name in result.stdout for name in COMMANDS)


def test_the_theme_is_remembered_and_an_explicit_theme_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROGPT_TUI_CONFIG", str(tmp_path))
    opened: list[str] = []
    monkeypatch.setattr(MicroGPTApp, "run", lambda app, *args, **kwargs: opened.append(app.theme))
    assert main([]) == 0  # nothing remembered yet: Textual's default
    assert main(["--theme", "ansi-light"]) == 0
    assert main([]) == 0
    assert main(["--theme", "textual-light"]) == 0
    assert main([]) == 0
    assert opened[1:] == ["ansi-light", "ansi-light", "textual-light", "textual-light"]
    assert opened[0] not in ("ansi-light", "textual-light")
    assert json.loads((tmp_path / "settings.json").read_text())["theme"] == "textual-light"


def test_tests_apps_never_touch_the_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROGPT_TUI_CONFIG", str(tmp_path))
    (tmp_path / "settings.json").write_text(json.dumps({"theme": "ansi-light"}))
    app = make_app(theme="textual-light")
    assert app.theme == "textual-light"
    assert make_app().theme != "ansi-light"
    assert json.loads((tmp_path / "settings.json").read_text()) == {"theme": "ansi-light"}
