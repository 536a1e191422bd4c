"""MicroGPT's engine against the reference program: losses, names, gradients, held-out quality."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from microgpt_tui.engine.data import load_names_from_path
from microgpt_tui.engine.microgpt.adam import Adam, linear_decay
from microgpt_tui.engine.microgpt.config import Config, ConfigError
from microgpt_tui.engine.microgpt.corpus import sequences, shuffled_corpus
from microgpt_tui.engine.microgpt.init import ParamLayout, init_weights
from microgpt_tui.engine.microgpt.numpy_model import NumpyGPT
from microgpt_tui.engine.microgpt.scalar_model import ScalarGPT
from microgpt_tui.engine.microgpt.tokenizer import Tokenizer
from microgpt_tui.engine.microgpt.trainer import Trainer

# Measured by running the reference program once:
#   cd ../shared/reference && python microgpt_reference.py ../data/names.txt 20
# with its step print changed to also show repr(loss.data) (a copy in /tmp, not in the repo).
REFERENCE_LOSSES_20 = [
    3.280918647392335,
    3.2279950861852362,
    3.178901403167824,
    3.1100413231865476,
    3.0133602238199084,
    2.961201033271825,
    2.8968931912021163,
    2.9498909064370418,
    2.8648577388801018,
    2.7224251277104803,
    2.7154264758925386,
    2.8193489948623554,
    2.8031103746964745,
    2.5612738241097976,
    2.751983498900559,
    2.5665090103258295,
    2.814187906748617,
    2.8311957256508555,
    2.6414440970831246,
    2.675197222778226,
]
# The same run's "Generated names:" (temperature 0.5, after the 20 steps).
REFERENCE_NAMES = ["joi", "kiei", "yiriae", "hea", "en", "paiean", "arne", "zrlae", "aiye", "ayen"]


@pytest.fixture
def full_names(full_names_path):
    return load_names_from_path(full_names_path).names


@pytest.fixture
def small_names(small_names_path):
    return load_names_from_path(small_names_path).names


def test_numpy_backend_reproduces_the_reference_run(full_names):
    trainer = Trainer(full_names, Config(num_steps=20), "numpy")
    assert trainer.vocab_size == 27 and trainer.layout.size == 4192
    losses = [event.loss for event in trainer.run()]
    assert losses == pytest.approx(REFERENCE_LOSSES_20, abs=1e-9, rel=0)
    assert trainer.sample(10) == REFERENCE_NAMES


def test_scalar_backend_reproduces_the_reference_first_steps(full_names):
    trainer = Trainer(full_names, Config(num_steps=20), "scalar")
    losses = [event.loss for event in trainer.run(steps=3)]
    assert losses == pytest.approx(REFERENCE_LOSSES_20[:3], abs=1e-9, rel=0)


def test_scalar_sampling_reproduces_the_reference_names(full_names):
    """20 steps with NumPy (as fast as CI needs), then the scalar model samples from them."""
    trainer = Trainer(full_names, Config(num_steps=20), "numpy")
    for _ in trainer.run():
        pass
    trainer.model = ScalarGPT(trainer.config, trainer.vocab_size, trainer.model.weight_vector())
    assert trainer.sample(10) == REFERENCE_NAMES


@pytest.mark.slow
def test_scalar_backend_reproduces_the_whole_reference_run(full_names):
    trainer = Trainer(full_names, Config(num_steps=20), "scalar")
    losses = [event.loss for event in trainer.run()]
    assert losses == pytest.approx(REFERENCE_LOSSES_20, abs=1e-9, rel=0)
    assert trainer.sample(10) == REFERENCE_NAMES


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"n_layer": 2, "n_head": 2, "block_size": 8},
        {"n_embed": 12, "n_head": 4, "block_size": 5},  # head_dim 3: a non-power-of-two scale
        {"n_embed": 8, "n_head": 1, "n_layer": 3, "block_size": 12},
    ],
)
def test_backends_agree_on_loss_and_every_gradient(small_names, overrides):
    config = Config(**overrides)
    tokenizer = Tokenizer.from_docs(small_names)
    weights = init_weights(config, tokenizer.vocab_size, random.Random(7))
    names = ["al", "christopher", "bo", "maximiliano", "e"]  # lengths around block_size
    batch = sequences(names, tokenizer, config.block_size)
    scalar = ScalarGPT(config, tokenizer.vocab_size, weights)
    numpy_model = NumpyGPT(config, tokenizer.vocab_size, weights)
    scalar_loss = scalar.loss_and_grad(batch)
    numpy_loss = numpy_model.loss_and_grad(batch)
    assert numpy_loss == pytest.approx(scalar_loss, abs=1e-12, rel=0)
    scalar_grad, numpy_grad = scalar.grad_vector(), numpy_model.grad_vector()
    assert np.abs(scalar_grad).max() > 1e-3  # the gradients are not trivially zero
    np.testing.assert_allclose(numpy_grad, scalar_grad, rtol=0, atol=1e-12)


def test_numpy_gradient_matches_finite_differences(small_names):
    config = Config(n_embed=8, n_head=2, n_layer=2, block_size=6)
    tokenizer = Tokenizer.from_docs(small_names)
    model = NumpyGPT(config, tokenizer.vocab_size,
                     init_weights(config, tokenizer.vocab_size, random.Random(3)))
    batch = sequences(["anna", "bob", "christine"], tokenizer, config.block_size)
    model.loss_and_grad(batch)
    grad = model.grad_vector().copy()
    rng = np.random.default_rng(0)
    for index in rng.choice(model.layout.size, 25, replace=False):
        original = model.flat[index]
        model.flat[index] = original + 1e-6
        up = model.loss_and_grad(batch)
        model.flat[index] = original - 1e-6
        down = model.loss_and_grad(batch)
        model.flat[index] = original
        assert (up - down) / 2e-6 == pytest.approx(grad[index], abs=1e-7)


def test_adam_matches_the_reference_update_element_by_element():
    grads = [0.3, -0.02, 0.0, 1e-9]
    weights = np.array([0.1, -0.2, 0.05, 0.0])
    adam = Adam(4, 0.85, 0.99, 1e-8)
    ref_w, m, v = weights.tolist(), [0.0] * 4, [0.0] * 4
    for step in range(3):
        lr = linear_decay(0.01, step, 3)
        adam.step(weights, np.array(grads), lr)
        for i, g in enumerate(grads):  # the reference's loop, verbatim arithmetic
            m[i] = 0.85 * m[i] + (1 - 0.85) * g
            v[i] = 0.99 * v[i] + (1 - 0.99) * g**2
            m_hat = m[i] / (1 - 0.85 ** (step + 1))
            v_hat = v[i] / (1 - 0.99 ** (step + 1))
            ref_w[i] -= lr * m_hat / (math.sqrt(v_hat) + 1e-8)
    assert weights.tolist() == ref_w
    view = adam.inspect(weights, 0)
    assert view.m == m[0] and view.weight == ref_w[0]
    assert view.update == pytest.approx(view.lr * view.m_hat / (math.sqrt(view.v_hat) + 1e-8))


def test_initial_weights_follow_the_reference_order():
    config = Config()
    rng = random.Random(42)
    flat = init_weights(config, 27, rng)
    again = random.Random(42)
    assert flat[0] == again.gauss(0, 0.08)
    views = ParamLayout.of(config, 27).views(flat)
    assert list(views) == ["wte", "wpe", "lm_head", "blocks.0.attn.wq", "blocks.0.attn.wk",
                           "blocks.0.attn.wv", "blocks.0.attn.wo", "blocks.0.mlp_fc1",
                           "blocks.0.mlp_fc2"]
    assert views["wpe"][0, 0] == flat[27 * 16]
    assert ParamLayout.of(config, 27).locate(27 * 16 + 17) == ("wpe", 1, 1)


def test_heldout_split_keeps_the_reference_training_order(small_names):
    rng = random.Random(42)
    corpus = shuffled_corpus(small_names, rng)
    reference = list(small_names)
    random.Random(42).shuffle(reference)
    assert corpus.docs == reference
    assert corpus.train == reference[: len(reference) - len(reference) // 10]
    assert corpus.heldout == [n for n in reference[len(corpus.train):] if n not in corpus.train]
    assert len(corpus.heldout) > 0
    assert corpus.batch(0, 8) == reference[:8]
    assert corpus.batch(len(corpus.train), 1) == [reference[0]]  # wraps like the reference


def test_heldout_loss_after_1000_default_steps(full_names):
    """The issue's quality bar: ≤ 2.25 nats per held-out token after 1000 reference steps."""
    trainer = Trainer(full_names, Config(num_steps=1000), "numpy")
    assert 1000 * 8 < len(trainer.corpus.train)  # the held-out names are never trained on
    assert set(trainer.corpus.heldout).isdisjoint(trainer.corpus.train)
    assert len(trainer.corpus.heldout) == 2770  # the last 3,203 names minus repeats of training
    for _ in trainer.run():
        pass
    assert trainer.heldout_loss() <= 2.25


def test_trainer_run_yields_one_event_per_step(small_names):
    trainer = Trainer(small_names, Config(num_steps=5, n_embed=8, n_head=2), "numpy")
    events = list(trainer.run(steps=2))
    assert [e.step for e in events] == [1, 2] and events[0].num_steps == 5
    assert events[0].lr == 0.01 and events[1].lr == pytest.approx(0.008)
    assert all(e.loss > 0 and e.ms >= 0 for e in events)
    assert [e.step for e in trainer.run()] == [3, 4, 5]
    assert list(trainer.run()) == []


def test_attention_maps_are_causal_distributions(small_names):
    trainer = Trainer(small_names, Config(n_layer=2, n_head=2), "numpy")
    labels, maps = trainer.attention("anna")
    assert labels == ["⟨bos⟩", "a", "n", "n", "a"]
    assert maps.shape == (2, 2, 5, 5)
    np.testing.assert_allclose(maps.sum(axis=-1), 1.0)
    assert np.all(np.triu(maps, k=1) == 0)


def test_param_table_and_adam_view(small_names):
    trainer = Trainer(small_names, Config(num_steps=3), "numpy")
    trainer.train_step()
    rows = trainer.param_table()
    assert [r.name for r in rows] == trainer.layout.names
    assert all(r.weight_norm > 0 and r.grad_norm > 0 for r in rows)
    view = trainer.adam_view("wte", 0, 0)
    assert view.lr == 0.01 and view.weight == trainer.model.w["wte"][0, 0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_head", 5, "multiple of n_head"),
        ("n_embed", 0, "n_embed must be a whole number ≥ 1"),
        ("learning_rate", float("nan"), "learning_rate must be a number > 0"),
        ("beta1", 1.0, "beta1 must be in [0, 1)"),
        ("block_size", 10_000, "block_size must be at most 256"),
        ("temperature", -1.0, "temperature must be between 0.01 and 100"),
    ],
)
def test_bad_configs_are_refused_with_one_line(field, value, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace(")", r"\)")) as info:
        Config(**{field: value}).validated()
    assert "\n" not in str(info.value)


def test_a_diverging_run_raises_once_and_takes_no_further_step(small_names):
    import warnings

    from microgpt_tui.engine.microgpt.trainer import TrainingDiverged

    trainer = Trainer(small_names, Config(n_embed=8, n_head=2, num_steps=5, learning_rate=1e308))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would fail the test
        with pytest.raises(TrainingDiverged, match="training diverged at step 2 ") as info:
            list(trainer.run())
    assert info.value.step == 2 and trainer.step == 1 and trainer.diverged_at == 2
    with pytest.raises(TrainingDiverged):
        trainer.train_step()


def test_finite_but_overflowing_weights_are_caught_before_sampling(small_names):
    from microgpt_tui.engine.microgpt.trainer import TrainingDiverged

    trainer = Trainer(small_names, Config(n_embed=8, n_head=2, num_steps=1, learning_rate=1e308))
    list(trainer.run())  # step 1's loss is finite; the weights it leaves are not usable
    with pytest.raises(TrainingDiverged, match="at step 1 "):
        trainer.check_finite_outputs()


def test_the_training_screen_gets_the_divergence_as_one_line(small_names_path):
    import queue

    from microgpt_tui.engine.microgpt.session import FAILED, SessionSpec, run_session

    published = []
    spec = SessionSpec(Config(n_embed=8, n_head=2, num_steps=5, learning_rate=1e308),
                       data_path=str(small_names_path))
    run_session(spec, queue.Queue(), published.append, lambda: False)
    assert published[-1].state == FAILED
    assert published[-1].message.startswith("training diverged at step 2 ")


@pytest.mark.parametrize("temperature", [5e-324, 1e-310, 0.0099, 100.5, float("nan")])
def test_a_temperature_outside_the_range_is_refused_not_an_overflow(small_names, temperature):
    from microgpt_tui.engine.microgpt.sampling import sample_names

    with pytest.raises(ConfigError, match="temperature must be"):
        Trainer(small_names, Config(temperature=temperature))
    trainer = Trainer(small_names, Config())
    with pytest.raises(ConfigError, match="temperature must be between 0.01 and 100"):
        sample_names(trainer.model, trainer.tokenizer, random.Random(0), 1, temperature, 16)


def test_the_lowest_temperature_is_nearly_greedy_and_finite():
    from microgpt_tui.engine.microgpt.config import MIN_TEMPERATURE
    from microgpt_tui.engine.microgpt.sampling import next_token_weights

    weights = next_token_weights([30.0, 29.0, -30.0], MIN_TEMPERATURE)
    assert all(math.isfinite(w) for w in weights) and weights[0] == 1.0
