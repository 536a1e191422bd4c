"""`microgpt-tui inspect`: each view in text and JSON, a checkpoint, and bad input (exit 2)."""

from __future__ import annotations

import json

import pytest
from test_microgpt_cli import run_cli


@pytest.fixture
def small(small_names_path) -> list[str]:
    return ["--data", str(small_names_path), "--steps", "5"]


def test_tokens_text_and_json(capsys, small):
    code, out, err = run_cli(capsys, "inspect", "tokens", "emma", *small)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("'emma' (typed) at step 5: mean loss ")
    assert len(lines) == 2 + 5 and "⟨end⟩" in lines[-1]
    code, out, _ = run_cli(capsys, "inspect", "tokens", "emma", "--json", "--top", "2", *small)
    record = json.loads(out)
    assert record["view"] == "tokens" and record["step"] == 5
    assert [t["target"] for t in record["tokens"]] == ["e", "m", "m", "a", "⟨end⟩"]
    assert all(len(t["top"]) == 2 for t in record["tokens"])
    mean = sum(t["loss"] for t in record["tokens"]) / 5
    assert record["mean_loss"] == pytest.approx(mean)


def test_tokens_without_a_name_scores_a_held_out_one(capsys, small):
    code, out, _ = run_cli(capsys, "inspect", "tokens", "--json", *small)
    assert code == 0 and json.loads(out)["source"] == "held-out"


def test_why_text_and_json(capsys, small):
    code, out, _ = run_cli(capsys, "inspect", "why", "emma", "--position", "2", *small)
    assert code == 0
    assert out.startswith("Why 'm' after '⟨bos⟩em' in 'emma' (position 2, step 5)?")
    for key in ("probability", "logits", "lm_head", "residual", "attention"):
        assert f"[{key}]" in out
    code, out, _ = run_cli(capsys, "inspect", "why", "emma", "--position", "4", "--char", "n",
                           "--temperature", "0.5", "--json", *small)
    record = json.loads(out)
    assert record["char"] == "n" and record["temperature"] == 0.5
    stages = {s["key"]: s for s in record["stages"]}
    assert stages["lm_head"]["total"] == pytest.approx(stages["residual"]["total"], abs=1e-9)


def test_gradcheck_agrees(capsys, small):
    code, out, _ = run_cli(capsys, "inspect", "gradcheck", "--param", "lm_head", "--row", "1",
                           "--col", "2", "--names", "2", *small)
    assert code == 0 and out.splitlines()[-1].endswith(": agree")
    code, out, _ = run_cli(capsys, "inspect", "gradcheck", "--param", "lm_head", "--json",
                           *small)
    record = json.loads(out)
    assert record["view"] == "gradcheck" and record["rel_error"] < 1e-6
    assert record["scalar_grad"] == pytest.approx(record["numpy_grad"], rel=1e-9)


def test_embed_and_health(capsys, small):
    code, out, _ = run_cli(capsys, "inspect", "embed", *small)
    assert code == 0 and "principal components" in out.splitlines()[0]
    assert any(line.startswith("  ⟨bos⟩") for line in out.splitlines())
    code, out, _ = run_cli(capsys, "inspect", "embed", "--json", *small)
    record = json.loads(out)
    assert len(record["xy"]) == len(record["labels"]) and len(record["explained"]) == 2
    code, out, _ = run_cli(capsys, "inspect", "health", "--width", "3", *small)
    assert code == 0 and "log10 grad norm" in out and "log10 update/weight" in out
    assert "|" in out.splitlines()[1]
    code, out, _ = run_cli(capsys, "inspect", "health", "--json", *small)
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["kind"] for r in records] == ["grad norm", "update/weight"]
    assert records[0]["steps"] == [1, 2, 3, 4, 5]
    assert len(records[0]["values"]) == len(records[0]["names"])


def test_a_checkpoint_is_inspected_without_training(capsys, small, small_names_path, tmp_path):
    ckpt = str(tmp_path / "run.npz")
    code, _, _ = run_cli(capsys, "train", "--data", str(small_names_path), "--steps", "3",
                         "--samples", "0", "--save", ckpt)
    assert code == 0
    code, out, _ = run_cli(capsys, "inspect", "tokens", "ab", "--checkpoint", ckpt, "--json")
    assert code == 0 and json.loads(out)["step"] == 3
    code, out, _ = run_cli(capsys, "inspect", "gradcheck", "--param", "wpe", "--checkpoint",
                           ckpt, "--data", str(small_names_path), "--json")
    assert code == 0 and json.loads(out)["step"] == 3


@pytest.mark.parametrize(("argv", "message"), [
    (["tokens", "emmA"], "outside the vocabulary: 'A'"),
    (["why", "emma", "--position", "5"], "position must be in 0..4"),
    (["why", "emma", "--char", "Q"], "'Q' is not a character"),
    (["why", "emma", "--temperature", "0"], "--temperature must be between"),
    (["gradcheck"], "needs --param"),
    (["gradcheck", "--param", "nope"], "unknown parameter 'nope'"),
    (["gradcheck", "--param", "wte", "--row", "99"], "row must be in"),
    (["gradcheck", "--param", "wte", "--col", "-1"], "col in 0..15, got row 0, col -1"),
    (["gradcheck", "--param", "wte", "--names", "0"], "--names must be between"),
    (["embed", "emma"], "takes no NAME"),
    (["health", "--checkpoint", "x.npz"], "cannot use --checkpoint"),
    (["health", "--steps", "0"], "at least one training step"),
    (["tokens", "--steps", "-1"], "--steps must be between"),
    (["colours"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, small_names_path, argv, message):
    code, out, err = run_cli(capsys, "inspect", *argv, "--data", str(small_names_path),
                             *([] if "--steps" in argv else ["--steps", "2"]))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("microgpt-tui: error: ")
    assert message in err


def test_a_missing_checkpoint_is_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "inspect", "embed", "--checkpoint", str(tmp_path / "no.npz"))
    assert code == 2 and err.count("\n") == 1
