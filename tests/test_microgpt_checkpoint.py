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


def test_a_round_trip_keeps_the_loss_history_and_adams_last_update(tmp_path, names):
    trainer = Trainer(names, SMALL)
    losses = [event.loss for event in trainer.run(steps=5)]
    assert trainer.loss_history == losses and trainer.history_start == 0
    checkpoint = load_checkpoint(save_checkpoint(tmp_path / "h.npz", trainer))
    assert checkpoint.version == 2 and checkpoint.has_history and checkpoint.has_last_update
    assert checkpoint.losses.tolist() == losses  # exactly
    np.testing.assert_array_equal(checkpoint.adam_last_grad, trainer.adam.last_grad)
    np.testing.assert_array_equal(checkpoint.adam_last_update, trainer.adam.last_update)
    assert checkpoint.adam_last_lr == trainer.adam.last_lr != 0.0
    resumed = resume_trainer(checkpoint, names)
    assert resumed.loss_history == losses and resumed.restore_note is None
    np.testing.assert_array_equal(resumed.adam.last_grad, trainer.adam.last_grad)
    np.testing.assert_array_equal(resumed.adam.last_update, trainer.adam.last_update)
    assert resumed.adam.last_lr == trainer.adam.last_lr
    resumed.train_step()
    assert resumed.loss_history[:5] == losses and len(resumed.loss_history) == 6


def test_a_resumed_trainers_adam_view_shows_the_real_last_update(tmp_path, names):
    trainer = Trainer(names, SMALL)
    list(trainer.run(steps=4))
    before = trainer.adam_view("wte", 1, 2)
    assert before.update != 0.0 and before.grad != 0.0
    path = save_checkpoint(tmp_path / "a.npz", trainer)
    assert resume_trainer(load_checkpoint(path), names).adam_view("wte", 1, 2) == before


def _as_version_1(good: bytes) -> bytes:
    """A checkpoint as version 1 wrote it: no loss history, no last update."""
    def meta_v1(meta):
        meta["version"] = 1
        del meta["adam_last_lr"], meta["history_start"]

    def arrays_v1(arrays):
        for name in ("losses", "adam_last_grad", "adam_last_update"):
            del arrays[name]

    return _rewrite(good, meta_v1, arrays_v1)


def test_a_version_1_checkpoint_still_loads_without_history(tmp_path, names):
    trainer = Trainer(names, SMALL)
    expected = [event.loss for event in Trainer(names, SMALL).run()]
    list(trainer.run(steps=5))
    path = tmp_path / "old.npz"
    path.write_bytes(_as_version_1(checkpoint_bytes(trainer)))
    checkpoint = load_checkpoint(path)
    assert checkpoint.version == 1 and not checkpoint.has_history
    assert not checkpoint.has_last_update and checkpoint.history_start == 5
    resumed = resume_trainer(checkpoint, names)
    assert resumed.step == 5 and resumed.loss_history == [] and resumed.history_start == 5
    assert resumed.restore_note is not None and "steps 1..5" in resumed.restore_note
    assert "\n" not in resumed.restore_note
    assert resumed.adam_view("wte", 1, 2).update == 0.0
    assert [event.loss for event in resumed.run()] == expected[5:]  # training is still exact
    assert resumed.history_start + len(resumed.loss_history) == resumed.step
    # Saved again, the partial history is kept with where it starts.
    again = load_checkpoint(save_checkpoint(tmp_path / "again.npz", resumed))
    assert again.history_start == 5 and again.losses.tolist() == expected[5:]
    assert again.has_last_update and not again.has_history


def test_an_unknown_version_is_one_line(tmp_path, names):
    good = checkpoint_bytes(Trainer(names, SMALL))
    _load_refused(tmp_path, _rewrite(good, lambda m: m.update(version=3)),
                  "format version 3, this app reads 1 and 2")


def _trained_bytes(names, steps: int = 5) -> bytes:
    trainer = Trainer(names, SMALL)
    list(trainer.run(steps=steps))
    return checkpoint_bytes(trainer)


def test_a_short_or_long_loss_history_is_refused(tmp_path, names):
    good = _trained_bytes(names)

    def losses(count):
        def change(arrays):
            arrays["losses"] = np.ones(count)
        return change

    _load_refused(tmp_path, _rewrite(good, arrays_change=losses(3)),
                  r"losses holds 3 values; steps 1..5 need 5")
    _load_refused(tmp_path, _rewrite(good, arrays_change=losses(7)),
                  r"losses holds 7 values; steps 1..5 need 5")
    _load_refused(tmp_path, _rewrite(good, arrays_change=losses(SMALL.num_steps + 1)),
                  r"losses has shape \(13,\), the config needs at most \(12,\)")

    def nan_loss(arrays):
        arrays["losses"] = arrays["losses"].copy()
        arrays["losses"][2] = np.nan

    _load_refused(tmp_path, _rewrite(good, arrays_change=nan_loss), "losses holds NaN")
    _load_refused(tmp_path, _rewrite(good, lambda m: m.update(history_start=9)),
                  "history_start 9 is outside 0..5")
    _load_refused(tmp_path, _rewrite(good, lambda m: m.update(adam_last_lr="x")),
                  "'adam_last_lr' is a string, expected a number")
    _load_refused(tmp_path, _rewrite(good, arrays_change=lambda a: a.pop("adam_last_update")),
                  "missing the 'adam_last_update' array")


def test_an_oversized_or_truncated_losses_member_is_refused_before_reading(tmp_path, names):
    good = _trained_bytes(names)
    unpacked = 64 * 2**20
    bomb = _archive(good, {"losses": (_npy_header((unpacked // 8,)), unpacked)})
    _load_refused(tmp_path, bomb, "the 'losses' array unpacks to")
    huge = _archive(good, {"losses": (_npy_header((2**40,)), 64)})
    _load_refused(tmp_path, huge, r"losses has shape \(1099511627776,\)")
    short = _archive(good, {"losses": (_npy_header((5,)), 16)})  # header says 5, holds 2
    _load_refused(tmp_path, short, "size does not match its header")
