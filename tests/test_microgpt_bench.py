"""The bench's peers compute what ours computes (speed itself is for `microgpt-tui bench`)."""

from __future__ import annotations

import pytest

from microgpt_tui.engine.data import load_names_from_path
from microgpt_tui.engine.microgpt.config import Config
from microgpt_tui.engine.microgpt.trainer import Trainer
from microgpt_tui.tui.bench.microgpt import BENCHMARK, ReferenceProgram, TorchTrainer


def test_the_reference_copy_takes_the_same_step_as_our_engines(small_names_path):
    names = load_names_from_path(small_names_path).names
    reference = ReferenceProgram(names, num_steps=20)
    ours = Trainer(names, Config(num_steps=20))
    assert reference.step() == pytest.approx(ours.train_step().loss, abs=1e-12)
    assert BENCHMARK.name == "microgpt" and BENCHMARK.default_rounds <= 3


def test_the_pytorch_peer_trains_the_same_model(small_names_path):
    pytest.importorskip("torch")
    names = load_names_from_path(small_names_path).names
    config = Config(num_steps=20)
    ours = Trainer(names, config)
    peer = TorchTrainer(Trainer(names, config))
    for _ in range(3):
        assert peer.step() == pytest.approx(ours.train_step().loss, abs=1e-12)
