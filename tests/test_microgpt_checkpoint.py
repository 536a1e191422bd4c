"""Checkpoints: exact resume, atomic writes, and one clear line for every bad file."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from microgpt_tui.engine.data import load_names_from_path
from microgpt_tui.engine.microgpt.checkpoint import (
    CheckpointError,
    checkpoint_bytes,
    load_checkpoint,
    resume_trainer,
    save_checkpoint,
)
from microgpt_tui.engine.microgpt.config import Config
from microgpt_tui.engine.microgpt.trainer import Trainer

SMALL = Config(n_embed=8, n_head=2, block_size=8, batch_size=4, num_steps=12)


@pytest.fixture
def names(small_names_path):
    return load_names_from_path(small_names_path).names


@pytest.mark.parametrize("engine", ["numpy", "scalar"])
def test_resuming_gives_exactly_the_uninterrupted_losses_and_names(tmp_path, names, engine):
    straight = Trainer(names, SMALL, engine)
    expected = [e.loss for e in straight.run()]
    expected_names = straight.sample(5)

    first = Trainer(names, SMALL, engine)
    losses = [e.loss for e in first.run(steps=5)]
    path = save_checkpoint(tmp_path / "run.npz", first)
    resumed = resume_trainer(load_checkpoint(path), names, engine)
    assert resumed.step == 5
    losses += [e.loss for e in resumed.run()]
    assert losses == expected  # bit for bit, not approximately
    assert resumed.sample(5) == expected_names


def test_checkpoint_holds_config_vocab_step_rng_and_adam(tmp_path, names):
    trainer = Trainer(names, SMALL)
    list(trainer.run(steps=3))
    checkpoint = load_checkpoint(save_checkpoint(tmp_path / "a.npz", trainer))
    assert checkpoint.config == SMALL
    assert checkpoint.chars == trainer.tokenizer.chars
    assert checkpoint.step == 3 and checkpoint.adam_t == 3
    assert checkpoint.rng_state == trainer.rng.getstate()
    np.testing.assert_array_equal(checkpoint.weights, trainer.model.weight_vector())
    np.testing.assert_array_equal(checkpoint.adam_v, trainer.adam.v)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]  # no temp file left behind


def test_saving_over_a_directory_or_into_an_unwritable_place_is_one_line(tmp_path, names):
    trainer = Trainer(names, SMALL)
    with pytest.raises(CheckpointError, match="is a directory"):
        save_checkpoint(tmp_path, trainer)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CheckpointError, match="cannot write"):
        save_checkpoint(blocker / "sub" / "c.npz", trainer)


def _rewrite(data: bytes, meta_change=None, arrays_change=None) -> bytes:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays["meta"].tobytes())
    if meta_change:
        meta_change(meta)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    if arrays_change:
        arrays_change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _bad_files(good: bytes) -> dict[str, tuple[bytes, str]]:
    def shrink(meta):
        meta["config"]["n_embed"] = 16

    def drop_weights(arrays):
        del arrays["weights"]

    def nan_weights(arrays):
        arrays["weights"] = arrays["weights"].copy()
        arrays["weights"][0] = np.nan

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("meta.npy", b"junk")
    return {
        "text": (b"hello, not a checkpoint\n", "not an .npz archive"),
        "truncated": (good[: len(good) // 2], "damaged or truncated"),
        "junk member": (buffer.getvalue(), "missing"),
        "other shapes": (_rewrite(good, shrink), "the config needs"),
        "no weights": (_rewrite(good, arrays_change=drop_weights), "missing the 'weights'"),
        "nan": (_rewrite(good, arrays_change=nan_weights), "NaN or infinity"),
        "foreign json": (_rewrite(good, lambda m: m.update(format="other")), "format tag"),
        "bad config": (_rewrite(good, lambda m: m["config"].update(n_head=3)), "multiple"),
    }


@pytest.mark.parametrize("case", ["text", "truncated", "junk member", "other shapes",
                                  "no weights", "nan", "foreign json", "bad config"])
def test_bad_checkpoints_give_one_clear_line(tmp_path, names, case):
    good = checkpoint_bytes(Trainer(names, SMALL))
    data, message = _bad_files(good)[case]
    path = tmp_path / "bad.npz"
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "nope.npz")
    with pytest.raises(CheckpointError, match="is a directory"):
        load_checkpoint(tmp_path)


def test_another_vocabulary_is_refused(tmp_path, names):
    path = save_checkpoint(tmp_path / "c.npz", Trainer(names, SMALL))
    with pytest.raises(CheckpointError, match="vocabulary") as info:
        resume_trainer(load_checkpoint(path), ["abc", "cab", "bca"])
    assert "\n" not in str(info.value)


def test_a_longer_schedule_may_be_given_but_not_a_shorter_one(tmp_path, names):
    trainer = Trainer(names, SMALL)
    list(trainer.run(steps=6))
    checkpoint = load_checkpoint(save_checkpoint(tmp_path / "c.npz", trainer))
    assert resume_trainer(checkpoint, names, num_steps=30).config.num_steps == 30
    with pytest.raises(CheckpointError, match="behind it"):
        resume_trainer(checkpoint, names, num_steps=4)
