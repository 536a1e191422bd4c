"""The headless CLI: version, help, JSON lines, one-line errors (exit 2 for bad input, 1 for a
failure while running), any output encoding, and the app's start without a terminal."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from microgpt_tui.tui.app import MicroGPTApp, make_app
from microgpt_tui.tui.bench.pty_app import PtyApp
from microgpt_tui.tui.cli import main as cli_main
from microgpt_tui.tui.cli.main import COMMANDS, main
from microgpt_tui.tui.cli.output import Output

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "microgpt_tui"]


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


def test_data_offline_uses_the_bundled_makemore_file(capsys):
    code, out, err = run_cli(capsys, "data", "--offline")
    assert code == 0
    assert out.startswith("bundled: makemore names.txt, 32,033 names\n") and err == ""


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
    monkeypatch.setattr(cli_main, "has_terminal", lambda: True)
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


# --- output: any encoding, a refused write, JSON without NaN ---------------------------------

SYMBOL_COMMANDS = [  # each prints symbols beyond ASCII (≈ − π, × →, ✓ µ ↔)
    ["pi", "--darts", "1000", "--workers", "1"],
    ["grad", "--steps", "x = 2; y = x * x"],
    ["kernels", "run", "flash_attention_fwd", "--n", "16", "--d", "16", "--sim"],
]


@pytest.mark.parametrize("argv", SYMBOL_COMMANDS, ids=lambda argv: argv[0])
@pytest.mark.parametrize(
    "encoding", [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0"}],
    ids=["PYTHONIOENCODING=ascii", "LC_ALL=C"],
)
def test_an_ascii_only_terminal_gets_ascii_not_a_crash(argv, encoding):
    """Regression: UnicodeEncodeError on '≈' and the like, with a traceback."""
    env = dict(os.environ, **encoding)
    env.pop("PYTHONIOENCODING", None) if "LC_ALL" in encoding else None
    result = subprocess.run([*CLI, *argv], capture_output=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stdout.isascii() and result.stderr.isascii()
    if argv[0] == "pi":
        assert result.stdout.startswith(b"pi ~= 3.") and b"|estimate - pi|" in result.stdout
    if argv[0] == "grad":
        assert b"x.grad += 2 x 1 -> 2" in result.stdout


def test_ascii_fallback_writes_an_exponent_as_one_caret():
    from microgpt_tui.tui.cli.output import ASCII_FALLBACK

    text = "×10⁻⁵¹ m; n³; 2²⁰; π ≈ 3"
    assert text.encode("ascii", ASCII_FALLBACK) == b"x10^-51 m; n^3; 2^20; pi ~= 3"


@pytest.fixture
def full_disk(tmp_path):
    """A device node like /dev/full (every write fails with ENOSPC), made in tmp_path."""
    path = tmp_path / "full"
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("making a device node needs root")
    return path


@pytest.mark.parametrize(
    "argv", [*SYMBOL_COMMANDS, ["grad", "--dot", "x = 1"], ["data", "--offline", "--json"],
             ["--help"], ["--version"]],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_a_full_disk_is_one_line_and_exit_1(full_disk, argv):
    """Regression: `> /dev/full` ended in an OSError traceback."""
    with full_disk.open("w") as stdout:
        result = subprocess.run([*CLI, *argv], stdout=stdout, stderr=subprocess.PIPE, timeout=60)
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 1, lines
    assert lines[-1] == "microgpt-tui: error: cannot write the output: No space left on device"
    assert "Traceback" not in result.stderr.decode() and len(lines) <= 2  # + a notice


def test_json_never_holds_nan_or_infinity():
    """Regression: `"grad": Infinity` is not JSON. Non-finite numbers are written as null."""
    stream = io.StringIO()
    record = {"a": float("nan"), "b": [float("inf"), 1.5], "c": np.float32("-inf"),
              "d": np.array([1.0, np.nan]), "e": np.int64(3), "f": Path("x")}

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    Output(json_mode=True, stream=stream).emit(record)
    assert json.loads(stream.getvalue(), parse_constant=refuse) == {
        "a": None, "b": [None, 1.5], "c": None, "d": [1.0, None], "e": 3, "f": "x"}


# --- the app's start: a usable --data, a terminal, a crash's exit status ----------------------


def test_a_names_file_without_names_is_refused_before_the_app_starts(monkeypatch, tmp_path,
                                                                     capsys):
    """Regression: `--data digits.txt` opened the app and failed inside the Training screen."""
    digits = tmp_path / "digits.txt"
    digits.write_text("\n".join(str(i) for i in range(100)))
    monkeypatch.setattr(MicroGPTApp, "run", lambda app: pytest.fail("the app started"))
    monkeypatch.setattr(cli_main, "has_terminal", lambda: True)
    _, _, data_says = run_cli(capsys, "data", "--data", str(digits))
    code, out, err = run_cli(capsys, "--data", str(digits))
    assert code == 2 and out == "" and err == data_says
    assert err.endswith(f"{digits}: no usable names (one name per line, letters only)\n")


def test_without_a_terminal_the_app_says_so_and_exits_2():
    """Regression: `microgpt-tui </dev/null 2>file` ran forever writing escape codes."""
    result = subprocess.run(CLI, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode() == (
        "microgpt-tui: error: needs a terminal; try a command such as "
        "`microgpt-tui pi --darts 1e6`\n")


CRASHES = {  # how the home screen crashes on start, and the line the CLI then says
    "in a handler": ("raise RuntimeError('boom for the test')",
                     "the app crashed: RuntimeError: boom for the test"),
    "in a panic": ("self.app.panic('boom for the test')",  # as Textual's input thread does
                   "the app crashed: see the error above"),
}


@pytest.mark.parametrize("kind", CRASHES)
def test_a_crash_exits_1_with_one_line_naming_it(tmp_path, kind):
    """Regression: the app exited 0 after a crash."""
    crash, line = CRASHES[kind]
    code = (
        "import sys\n"
        "from microgpt_tui.tui.screens.home import HomeScreen\n"
        "def crash(self):\n"
        f"    {crash}\n"
        "HomeScreen.on_mount = crash\n"
        "from microgpt_tui.tui.cli.main import main\n"
        "sys.exit(main([]))\n"
    )
    app = PtyApp(code, env={"MICROGPT_TUI_CONFIG": str(tmp_path)})
    try:
        status = app.wait_for_exit(timeout=60)
        assert status == 1, app.last_words()
        assert app.last_words().endswith(f"microgpt-tui: error: {line}")
    finally:
        app.release()


def test_grad_reads_its_file_through_the_bounded_reader(capsys, tmp_path):
    """A device, a FIFO or a directory is refused at once (it used to read /dev/zero until
    memory ran out); a program file and stdin still work."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, kind in [("/dev/zero", "character device"), (str(fifo), "FIFO"),
                       (str(tmp_path), "directory")]:
        code, out, err = run_cli(capsys, "grad", "--file", path)
        assert code == 2 and out == "" and kind in err and err.count("\n") == 1
    program = tmp_path / "prog.txt"
    program.write_text("x = 2\ny = x * x\n")
    code, out, _ = run_cli(capsys, "grad", "--file", str(program))
    assert code == 0 and "4" in out


def test_a_bad_kernel_trace_path_is_refused_before_the_run(capsys, tmp_path, monkeypatch):
    from microgpt_tui.kernels import execute

    ran = []
    monkeypatch.setattr(execute, "execute", lambda *a, **k: ran.append(1))
    for target in ["", str(tmp_path)]:
        code, _, err = run_cli(capsys, "kernels", "run", "matmul_tiled", "--n", "64", "--sim",
                               "--trace", target)
        assert code == 2 and "cannot write" in err and err.count("\n") == 1
    assert ran == []
