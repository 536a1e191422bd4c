"""README's two commands are the ones CI runs, verbatim."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _fenced_sh_blocks(text: str) -> list[str]:
    blocks, inside, current = [], False, []
    for line in text.splitlines():
        if line.strip() == "```sh":
            inside, current = True, []
        elif line.strip() == "```" and inside:
            inside = False
            blocks.append("\n".join(current).strip())
        elif inside:
            current.append(line)
    return blocks


def test_ci_runs_the_readme_install_and_test_commands():
    install, test = _fenced_sh_blocks((REPO / "README.md").read_text(encoding="utf-8"))[:2]
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert install in ci_lines
    assert test in ci_lines
    assert "pip install" in install and "pytest" in test
