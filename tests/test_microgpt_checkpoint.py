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


def _npy_header(shape: tuple, descr: str = "<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _archive(good: bytes, replace: dict[str, tuple[bytes, int]]) -> bytes:
    """`good` with some members replaced by (header, zero bytes after it), deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            name = info.filename.removesuffix(".npy")
            if name not in replace:
                archive.writestr(info.filename, source.read(info))
                continue
            header, zeros = replace[name]
            with archive.open(info.filename, "w", force_zip64=True) as member:
                member.write(header)
                chunk = bytes(1 << 20)
                for start in range(0, zeros, len(chunk)):
                    member.write(chunk[: min(len(chunk), zeros - start)])
    return out.getvalue()


def _load_refused(tmp_path, data: bytes, message: str) -> str:
    path = tmp_path / "crafted.npz"
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    return str(info.value)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, names):
    import tracemalloc

    good = checkpoint_bytes(Trainer(names, SMALL))
    unpacked = 64 * 2**20  # 64 MiB of zeros: a few hundred KB deflated
    bomb = _archive(good, {"weights": (_npy_header((unpacked // 8,)), unpacked)})
    assert len(bomb) < 2**20
    tracemalloc.start()
    try:
        _load_refused(tmp_path, bomb, "the config needs")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20  # the file itself, not what it would unpack to


def test_a_member_whose_header_asks_for_terabytes_is_refused(tmp_path, names):
    good = checkpoint_bytes(Trainer(names, SMALL))
    huge = _archive(good, {"adam_v": (_npy_header((2**40,)), 64)})  # 8 TiB of float64
    _load_refused(tmp_path, huge, r"adam_v has shape \(1099511627776,\), the config needs")


def test_a_pickle_inside_the_archive_is_refused_as_such(tmp_path, names):
    good = checkpoint_bytes(Trainer(names, SMALL))

    def pickled(arrays):
        arrays["weights"] = np.array([1.0, "x"], dtype=object)

    message = _load_refused(tmp_path, _rewrite(good, arrays_change=pickled),
                            "holds a pickled object")
    assert "weights" in message and "damaged" not in message


def _meta_with(good: bytes, raw_meta: bytes) -> bytes:
    def change(arrays):
        arrays["meta"] = np.frombuffer(raw_meta, dtype=np.uint8)

    return _rewrite(good, arrays_change=change)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(config=[16, 4]), "'config' is a list, expected an object"),
        (lambda m: m.update(chars=[1, 2, 3]), "'chars' is a list, expected a string"),
        (lambda m: m.update(chars=7), "'chars' is a whole number, expected a string"),
        (lambda m: m.update(step=2.5), "'step' is a number, expected a whole number"),
        (lambda m: m.update(step=10**6), "step 1000000 is outside"),
        (lambda m: m["rng_state"][1].__setitem__(0, 2**64), "rng_state"),
        (lambda m: m["rng_state"][1].__setitem__(624, 700), "rng_state"),
        (lambda m: m["rng_state"].__setitem__(0, 2), "rng_state"),
        (lambda m: m.update(rng_state="seed"), "'rng_state' is a string, expected a list"),
        (lambda m: m.update(engine="gpu"), "unknown engine 'gpu'"),
        (lambda m: m["config"].update(learning_rate=10**400), "too large for a float"),
        (lambda m: m["config"].update(temperature=5e-324), "temperature must be between"),
    ],
)
def test_crafted_metadata_is_one_line_naming_the_field(tmp_path, names, change, message):
    good = checkpoint_bytes(Trainer(names, SMALL))
    _load_refused(tmp_path, _rewrite(good, change), message)


def test_metadata_nested_100k_deep_is_refused(tmp_path, names):
    good = checkpoint_bytes(Trainer(names, SMALL))
    deep = b"[" * 100_000 + b"]" * 100_000
    _load_refused(tmp_path, _meta_with(good, deep), "nested too deeply")


def test_the_training_screen_shows_the_same_line_for_a_crafted_checkpoint(tmp_path, names,
                                                                         small_names_path):
    import queue

    from microgpt_tui.engine.microgpt.session import FAILED, SessionSpec, run_session

    path = tmp_path / "crafted.npz"
    path.write_bytes(_rewrite(checkpoint_bytes(Trainer(names, SMALL)),
                              lambda m: m.update(config=[1])))
    published = []
    spec = SessionSpec(SMALL, data_path=str(small_names_path), checkpoint_path=str(path))
    run_session(spec, queue.Queue(), published.append, lambda: False)
    assert published[-1].state == FAILED
    assert published[-1].message == (f"{path}: not a usable MicroGPT checkpoint ('config' is "
                                     "a list, expected an object)")


def test_nothing_non_finite_or_diverged_is_saved(tmp_path, names):
    trainer = Trainer(names, SMALL)
    trainer.adam.v[3] = np.inf
    with pytest.raises(CheckpointError, match="adam_v hold NaN or infinity; nothing saved"):
        save_checkpoint(tmp_path / "c.npz", trainer)
    diverging = Trainer(names, SMALL.with_changes(learning_rate=1e308))
    with pytest.raises(Exception, match="diverged"):
        list(diverging.run())
    with pytest.raises(CheckpointError, match="diverged at step 2; nothing saved"):
        save_checkpoint(tmp_path / "c.npz", diverging)
    assert not any(tmp_path.iterdir())


def test_an_existing_checkpoints_mode_is_kept_and_a_symlink_refused(tmp_path, names):
    trainer = Trainer(names, SMALL)
    path = tmp_path / "shared.npz"
    path.write_bytes(b"old")
    path.chmod(0o664)
    save_checkpoint(path, trainer)
    assert path.stat().st_mode & 0o777 == 0o664
    link = tmp_path / "link.npz"
    link.symlink_to(path)
    with pytest.raises(CheckpointError, match="cannot write .is a symbolic link"):
        save_checkpoint(link, trainer)
    with pytest.raises(CheckpointError, match="empty path"):
        save_checkpoint("", trainer)
