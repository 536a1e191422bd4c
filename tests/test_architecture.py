"""Imports point one way (core ← kit and widgets ← screens ← front ends), and the package
installs under one namespace."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORE = ("engine", "kernels")
TOP_LEVEL = ("engine", "kernels", "tui", "assets")


def _core_modules() -> list[str]:
    modules = []
    for top in CORE:
        for path in sorted((REPO / top).rglob("*.py")):
            relative = path.relative_to(REPO).with_suffix("")
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules.append("microgpt_tui." + ".".join(parts))
    return modules


def test_core_sources_do_not_import_the_ui():
    offenders = []
    for top in CORE:
        for path in (REPO / top).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    module = node.module or ""
                    names = ["." * node.level + module]
                for name in names:
                    if name.split(".")[0] == "textual" or "tui" in name.split("."):
                        offenders.append(f"{path.relative_to(REPO)}: {name}")
    assert offenders == []


def test_importing_every_core_module_leaves_textual_unloaded():
    modules = _core_modules()
    assert "microgpt_tui.engine.data" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')"
        " or m.startswith('microgpt_tui.tui'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_home_screen_import_stays_light():
    """The app module (all that the first frame needs) must not import heavy libraries."""
    code = (
        "import sys\n"
        "import microgpt_tui.tui.app\n"
        "heavy = [m for m in ('numpy', 'networkx', 'cuda', 'torch') if m in sys.modules]\n"
        "print(heavy)\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_generic_top_level_packages_are_installed(tmp_path):
    """Outside the checkout, only `microgpt_tui` resolves; `engine`, `tui`, … do not."""
    code = (
        "import importlib.util, sys\n"
        "names = ('engine', 'kernels', 'tui', 'assets')\n"
        "found = [n for n in names if importlib.util.find_spec(n)]\n"
        "assert importlib.util.find_spec('microgpt_tui.engine')\n"
        "print(found)\n"
        "sys.exit(1 if found else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_wheel_has_one_namespace_and_ships_data(tmp_path):
    pytest.importorskip("setuptools")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(REPO)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    import zipfile

    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"microgpt_tui"}
    assert "microgpt_tui/tui/app.tcss" in names
    assert "microgpt_tui/tui/screens/home.tcss" in names
    assert "microgpt_tui/assets/names_small.txt" in names
    assert "microgpt_tui/assets/answers/q5_gpt.md" in names
    cu_sources = {p.relative_to(REPO).as_posix() for p in (REPO / "kernels").glob("*.cu")}
    for source in cu_sources:
        assert f"microgpt_tui/{source}" in names


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return "microgpt_tui." + ".".join(parts)


def _imported_modules(path: Path) -> set[str]:
    """Every project module `path` imports, anywhere in the file (lazy imports included),
    as absolute names; `from . import x` counts as importing the module `x` too."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("microgpt_tui.")}


def _tui_part(module: str) -> str | None:
    """The part of tui/ a module belongs to: 'screens', 'kit', 'app', …; None outside tui/."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "tui" else None


FRONT_ENDS = {"cli", "bench", "serve"}  # beside the app: they may use anything, nothing uses them
FORBIDDEN = {
    # Screens compose the kit, widgets, modals and the engine; the app shell sits above them.
    "screens": {"app", "commands"} | FRONT_ENDS,
    # The shared kit knows no screen: a screen can be added or removed without touching it.
    "kit": {"screens", "app", "commands"} | FRONT_ENDS,
    "widgets": {"screens", "app", "commands"} | FRONT_ENDS,
    "modals": {"screens", "app", "commands"} | FRONT_ENDS,
    # The registry (import paths only) and the settings file sit under everything in tui/.
    "registry": {"screens", "kit", "widgets", "modals", "app", "commands"} | FRONT_ENDS,
    "settings": {"screens", "kit", "widgets", "modals", "app", "commands"} | FRONT_ENDS,
}


def test_imports_inside_tui_point_one_way():
    offenders = []
    for path in sorted((REPO / "tui").rglob("*.py")):
        part = _tui_part(_module_name(path))
        forbidden = FORBIDDEN.get(part, set() if part in FRONT_ENDS else FRONT_ENDS)
        for imported in sorted(_imported_modules(path)):
            if _tui_part(imported) in forbidden:
                offenders.append(f"{path.relative_to(REPO)} imports {imported}")
    assert offenders == [], "\n".join(offenders)


def test_pyproject_lists_every_package():
    """pyproject's package list is static (tools read it): a new package folder must join it."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {"microgpt_tui"} | {
        _module_name(init) for top in TOP_LEVEL for init in (REPO / top).rglob("__init__.py")
    }
    assert listed == found, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_python_dash_m_runs_the_cli(tmp_path):
    """`python -m microgpt_tui` is the `microgpt-tui` command (run outside the checkout, so it
    is the installed package that answers)."""
    version = subprocess.run(
        [sys.executable, "-m", "microgpt_tui", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert version.returncode == 0 and version.stdout.startswith("microgpt-tui ")
    bad = subprocess.run(
        [sys.executable, "-m", "microgpt_tui", "no-such-command"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("microgpt-tui: error: ") and bad.stderr.count("\n") == 1
