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
        (["train", "--samples", "-1"], "--samples must be between 0 and 100,000"),
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


SMALL_RUN = ["--n-embed", "8", "--n-head", "2", "--block-size", "8", "--samples", "0"]


def test_the_names_file_is_never_overwritten_by_its_own_run(capsys, small_names_path, tmp_path):
    names = tmp_path / "names.txt"
    names.write_bytes(small_names_path.read_bytes())
    code, out, err = run_cli(capsys, "train", "--data", str(names), "--save", str(names),
                             *SMALL_RUN)
    assert code == 2 and out == ""  # refused before training, not after
    assert "is also this run's input" in err and err.count("\n") == 1
    assert names.read_bytes() == small_names_path.read_bytes()


@pytest.mark.parametrize(
    ("save", "message"),
    [
        ("", "empty path"),
        ("{tmp}/file/sub/c.npz", "is not a folder"),
        ("{tmp}", "is a directory"),
    ],
)
def test_a_bad_save_path_is_refused_before_step_one(capsys, small_names_path, tmp_path, save,
                                                     message):
    (tmp_path / "file").write_text("in the way")
    code, out, err = run_cli(capsys, "train", "--data", str(small_names_path), "--save",
                             save.format(tmp=tmp_path), *SMALL_RUN)
    assert code == 2 and "Step" not in out and out == ""
    assert message in err and err.count("\n") == 1


def test_ctrl_c_with_save_keeps_what_was_trained(capsys, small_names_path, tmp_path,
                                                 monkeypatch):
    import os
    import signal

    from microgpt_tui.engine.microgpt.checkpoint import load_checkpoint
    from microgpt_tui.engine.microgpt.trainer import Trainer

    real_step = Trainer.train_step

    def step_then_ctrl_c_at_3(trainer):
        event = real_step(trainer)
        if trainer.step == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return event

    monkeypatch.setattr(Trainer, "train_step", step_then_ctrl_c_at_3)
    ckpt = tmp_path / "run.npz"
    code, out, err = run_cli(capsys, "train", "--data", str(small_names_path), "--steps", "50",
                             "--save", str(ckpt), *SMALL_RUN)
    assert code == 130 and err == "microgpt-tui: interrupted\n"
    assert out.splitlines()[-1] == f"Saved checkpoint at step 3 to {ckpt}"
    assert load_checkpoint(ckpt).step == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


@pytest.mark.parametrize(
    ("extra", "step"),
    [
        (["--steps", "5"], 2),  # step 1's update leaves weights near 1e308: step 2 overflows
        (["--steps", "1"], 1),  # the run ends there: the model's outputs are checked too
        (["--steps", "3", "--engine", "scalar"], 2),
    ],
)
def test_a_diverging_run_stops_with_one_line_and_saves_nothing(capsys, small_names_path,
                                                               tmp_path, extra, step):
    ckpt = tmp_path / "run.npz"
    code, out, err = run_cli(capsys, "train", "--data", str(small_names_path), "--lr", "1e308",
                             "--save", str(ckpt), *SMALL_RUN, *extra)
    assert code == 1
    assert err.startswith(f"microgpt-tui: error: training diverged at step {step} ")
    assert err.count("\n") == 1  # no numpy warnings
    assert "nan" not in out.lower()
    assert not ckpt.exists() and list(tmp_path.iterdir()) == []


@pytest.fixture
def small_checkpoint(capsys, small_names_path, tmp_path) -> str:
    path = str(tmp_path / "small.npz")
    code, _, _ = run_cli(capsys, "train", "--data", str(small_names_path), "--steps", "5",
                         "--save", path, *SMALL_RUN)
    assert code == 0
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["sample", "--checkpoint", "{ckpt}", "--temperature", "1e-310"],
        ["sample", "--checkpoint", "{ckpt}", "--temperature", "nan"],
        ["train", "--temperature", "5e-324"],
        ["train", "--temperature", "101"],
    ],
)
def test_temperature_has_one_range_everywhere(capsys, small_checkpoint, argv):
    code, out, err = run_cli(capsys, *[a.format(ckpt=small_checkpoint) for a in argv])
    assert code == 2 and out == ""
    assert "--temperature must be between 0.01 and 100, got" in err and err.count("\n") == 1


def test_the_lowest_temperature_samples_without_overflow(capsys, small_checkpoint):
    code, out, _ = run_cli(capsys, "sample", "--checkpoint", small_checkpoint, "-n", "5",
                           "--temperature", "0.01")
    assert code == 0 and len(out.splitlines()) == 5


def test_empty_names_are_shown_as_such(capsys, small_checkpoint):
    argv = ["sample", "--checkpoint", small_checkpoint, "-n", "300", "--seed", "3"]
    code, text, _ = run_cli(capsys, *argv)
    assert code == 0
    lines = text.splitlines()
    assert len(lines) == 300 and "" not in lines
    code, jsonl, _ = run_cli(capsys, *argv, "--json")
    names = [json.loads(line)["name"] for line in jsonl.splitlines()]
    assert names.count("") == lines.count("(empty)") > 0
    assert [name or "(empty)" for name in names] == lines


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--samples", "100001"], "--samples must be between 0 and 100,000"),
        (["sample", "--checkpoint", "x.npz", "-n", "100001"], "-n must be between 1 and 100,000"),
    ],
)
def test_one_limit_on_names_printed(capsys, argv, message):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and message in err
