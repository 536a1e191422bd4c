"""`microgpt-tui train` and `sample`: the reference's output, JSON lines, resume, bad input."""

from __future__ import annotations

import json

import pytest
from test_microgpt_engine import REFERENCE_LOSSES_20, REFERENCE_NAMES

from microgpt_tui.tui.cli.main import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_prints_the_reference_output(capsys, full_names_path):
    code, out, _ = run_cli(capsys, "train", "--data", str(full_names_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == ["Number of docs: 32033", "Vocab size: 27", "Number of parameters: 4192"]
    steps = [line for line in lines if line.startswith("Step ")]
    assert steps == [f"Step {i + 1}/20, Loss: {loss:.4f}"
                     for i, loss in enumerate(REFERENCE_LOSSES_20)]
    assert steps[0] == "Step 1/20, Loss: 3.2809"
    assert lines[lines.index("Generated names:") + 1:] == REFERENCE_NAMES


def test_train_json_lines(capsys, small_names_path):
    code, out, err = run_cli(capsys, "train", "--json", "--data", str(small_names_path),
                             "--steps", "4", "--samples", "2", "--n-embed", "8", "--n-head", "2")
    assert code == 0 and err == ""
    records = [json.loads(line) for line in out.splitlines()]
    steps = [r for r in records if "step" in r]
    assert [r["step"] for r in steps] == [1, 2, 3, 4]
    assert set(steps[0]) == {"step", "loss", "lr", "ms"}
    assert steps[0]["lr"] == 0.01 and steps[1]["lr"] == pytest.approx(0.0075)
    assert any("heldout_loss" in r for r in records)
    assert len([r for r in records if "name" in r]) == 2


def test_save_resume_and_sample(capsys, small_names_path, tmp_path):
    data = ["--data", str(small_names_path)]
    ckpt = str(tmp_path / "run.npz")
    code, straight, _ = run_cli(capsys, "train", *data, "--steps", "6", "--samples", "3")
    assert code == 0
    code, first, _ = run_cli(capsys, "train", *data, "--steps", "6", "--stop-at", "3",
                             "--save", ckpt, "--samples", "0")
    assert code == 0 and "Saved checkpoint at step 3" in first
    code, second, _ = run_cli(capsys, "train", *data, "--resume", ckpt, "--samples", "3")
    assert code == 0 and "Resuming at step 3/6" in second

    def step_lines(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith("Step ")]

    assert step_lines(first) + step_lines(second) == step_lines(straight)
    tail = straight.splitlines()[-3:]
    assert second.splitlines()[-3:] == tail  # the names training would have printed

    code, _, _ = run_cli(capsys, "train", *data, "--steps", "6", "--save", ckpt, "--samples",
                         "0")
    code, sampled, _ = run_cli(capsys, "sample", "--checkpoint", ckpt, "-n", "3")
    assert code == 0 and sampled.splitlines() == tail
    code, out, _ = run_cli(capsys, "sample", "--json", "--checkpoint", ckpt, "-n", "2",
                           "--temperature", "1.5", "--seed", "1")
    assert code == 0 and [set(json.loads(line)) for line in out.splitlines()] == [{"name"}] * 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--n-head", "5"], "multiple of n_head"),
        (["train", "--steps", "0"], "num_steps must be a whole number ≥ 1"),
        (["train", "--lr", "-1"], "learning_rate must be a number > 0"),
        (["train", "--steps", "abc"], "invalid int value"),
        (["train", "--engine", "gpu"], "invalid choice"),
        (["train", "--steps", "5", "--stop-at", "9"], "--stop-at must be in 1..5"),
        (["train", "--samples", "-1"], "--samples must be ≥ 0"),
        (["train", "--data", "/nonexistent/names.txt"], "no such file"),
        (["train", "--resume", "/nonexistent/c.npz"], "no such file"),
        (["sample"], "required: --checkpoint"),
        (["sample", "--checkpoint", "/nonexistent/c.npz"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_resume_refuses_a_different_model_and_a_finished_schedule(capsys, small_names_path,
                                                                  tmp_path):
    data = ["--data", str(small_names_path)]
    ckpt = str(tmp_path / "c.npz")
    run_cli(capsys, "train", *data, "--steps", "2", "--save", ckpt, "--samples", "0")
    code, _, err = run_cli(capsys, "train", *data, "--resume", ckpt, "--n-embed", "32")
    assert code == 2 and "differs from the checkpoint's 16" in err
    code, _, err = run_cli(capsys, "train", *data, "--resume", ckpt)
    assert code == 2 and "finished its schedule" in err
    code, out, _ = run_cli(capsys, "train", *data, "--resume", ckpt, "--steps", "3",
                           "--samples", "0")
    assert code == 0 and "Step 3/3" in out
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 broken")
    code, _, err = run_cli(capsys, "sample", "--checkpoint", str(bad))
    assert code == 2 and "damaged or truncated" in err
