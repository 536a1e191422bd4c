"""The inspection views' engines: token losses, "why this character?", gradient health,
the three-way gradient check and the embedding map, each against an independent computation."""

from __future__ import annotations

import numpy as np
import pytest

from microgpt_tui.engine.data import load_names_from_path
from microgpt_tui.engine.microgpt.config import Config
from microgpt_tui.engine.microgpt.embedding_map import embedding_pca
from microgpt_tui.engine.microgpt.grad_health import (
    GRAD_NORM,
    UPDATE_RATIO,
    HealthHistory,
    tensor_norms,
    update_ratios,
)
from microgpt_tui.engine.microgpt.gradcheck import central_difference, grad_check, weight_index
from microgpt_tui.engine.microgpt.numpy_model import NumpyGPT
from microgpt_tui.engine.microgpt.readouts import BOS_LABEL, END_LABEL
from microgpt_tui.engine.microgpt.token_losses import token_labels, token_strip
from microgpt_tui.engine.microgpt.trainer import Trainer
from microgpt_tui.engine.microgpt.why import explain

SMALL = Config(n_embed=8, n_head=2, n_layer=2, block_size=8, batch_size=4, num_steps=40)


@pytest.fixture(scope="module")
def trainer() -> Trainer:
    from conftest import REPO

    names = load_names_from_path(REPO / "assets" / "names_small.txt").names
    trainer = Trainer(names, SMALL)
    for _ in trainer.run(15):
        pass
    return trainer


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def next_probs(model: NumpyGPT, tokens: list[int]) -> np.ndarray:
    return softmax(model.next_logits(np.array([tokens]))[0])


# Token losses


@pytest.mark.parametrize("name", ["emma", "a", "", "christopherson"])
def test_token_strip_matches_the_training_loss_and_next_logits(trainer, name):
    model, tok = trainer.numpy_model(), trainer.tokenizer
    strip = token_strip(model, tok, name, "typed", trainer.step, k=3)
    tokens = tok.encode(name)[: SMALL.block_size + 1]
    assert len(strip.tokens) == len(tokens) - 1
    assert strip.mean_loss == pytest.approx(model.sequence_losses([tokens])[0], abs=1e-12)
    for position, token in enumerate(strip.tokens):
        probs = next_probs(model, tokens[: position + 1])
        assert token.prob == pytest.approx(probs[tokens[position + 1]], abs=1e-12)
        assert token.loss == pytest.approx(-np.log(token.prob + 1e-10), abs=1e-12)
        assert token.context == name[:position]
        labels = token_labels(tok)
        best = np.argsort(-probs)[:3]
        assert [label for label, _ in token.top] == [
            END_LABEL if i == tok.bos else labels[i] for i in best]
        assert [p for _, p in token.top] == pytest.approx(probs[best], abs=1e-12)
    cut = len(name) >= SMALL.block_size  # the name is cut to block_size characters
    assert strip.tokens[-1].target == (name[SMALL.block_size - 1] if cut else END_LABEL)


def test_token_strip_refuses_a_character_outside_the_vocabulary(trainer):
    with pytest.raises(ValueError, match="outside the vocabulary: 'A'"):
        token_strip(trainer.numpy_model(), trainer.tokenizer, "emmA", "typed", 0)


# Why this character?


@pytest.mark.parametrize(("name", "position", "char", "temperature"),
                         [("emma", 2, None, 1.0), ("emma", 0, None, 0.5), ("emma", 4, None, 2.0),
                          ("bob", 1, "z", 1.0), ("bob", 3, END_LABEL, 0.7)])
def test_why_stages_add_up_to_the_models_logit(trainer, name, position, char, temperature):
    model, tok = trainer.numpy_model(), trainer.tokenizer
    chain = explain(model, tok, name, position, temperature, trainer.step, char=char)
    assert [s.key for s in chain.stages] == ["probability", "logits", "lm_head", "residual",
                                             "attention"]
    tokens = tok.encode(name)
    target = tokens[position + 1] if char is None else (
        tok.bos if char == END_LABEL else tok.chars.index(char))
    logits = model.next_logits(np.array([tokens[: position + 1]]))[0]
    stages = {s.key: s for s in chain.stages}
    probs = softmax(logits / temperature)
    terms = {t.label: t.value for t in stages["probability"].terms}
    assert terms[chain.char] == pytest.approx(probs[target], abs=1e-12)
    assert {t.label: t.value for t in stages["logits"].terms}[chain.char] == pytest.approx(
        logits[target], abs=1e-12)
    rank = int((logits > logits[target]).sum()) + 1
    assert f"rank {rank} of" in stages["logits"].title
    for key in ("lm_head", "residual"):
        assert stages[key].total == pytest.approx(logits[target], abs=1e-9)
    for key in ("lm_head", "residual", "attention"):
        assert sum(t.value for t in stages[key].terms) == pytest.approx(stages[key].total,
                                                                         abs=1e-9)
    residual = {t.label: t.value for t in stages["residual"].terms}
    assert list(residual) == ["embedding", "L0 attention", "L0 MLP", "L1 attention", "L1 MLP"]
    assert stages["attention"].total == pytest.approx(
        residual["L0 attention"] + residual["L1 attention"], abs=1e-9)
    # the attention terms: one per layer, head and position read, weights summing to 1
    attention = stages["attention"].terms
    assert len(attention) == SMALL.n_layer * SMALL.n_head * (position + 1)
    weights = model.attention(tokens[: position + 1])[:, :, position, :]
    for term in attention:
        layer, head = int(term.label[1]), int(term.label.split()[1][1:])
        j = int(term.label.rsplit("@", 1)[1])
        assert term.detail == f"weight {weights[layer, head, j]:.3f}"
    sizes = [abs(t.value) for t in stages["lm_head"].terms]
    assert sizes == sorted(sizes, reverse=True)


def test_why_labels_the_read_positions(trainer):
    chain = explain(trainer.numpy_model(), trainer.tokenizer, "ab", 1, 1.0, 0)
    labels = {t.label.split("← ")[1] for t in chain.stages[-1].terms}
    assert labels == {f"{BOS_LABEL} @0", "a @1"}
    assert chain.context == "a" and chain.char == "b"


@pytest.mark.parametrize(("position", "char", "message"),
                         [(5, None, r"position must be in 0\.\.4"), (-1, None, "position"),
                          (0, "Q", "'Q' is not a character")])
def test_why_refuses_bad_input(trainer, position, char, message):
    with pytest.raises(ValueError, match=message):
        explain(trainer.numpy_model(), trainer.tokenizer, "emma", position, 1.0, 0, char=char)


# Gradient health


def test_tensor_norms_are_each_tensors_norm(trainer):
    vector = np.random.default_rng(0).normal(size=trainer.layout.size)
    expected = [np.linalg.norm(vector[a:b]) for a, b in trainer.layout.offsets().values()]
    assert tensor_norms(trainer.layout, vector) == pytest.approx(expected, rel=1e-12)
    after = vector * 1.01
    assert update_ratios(trainer.layout, vector, after) == pytest.approx(
        [0.01 / 1.01] * len(expected), rel=1e-9)


def test_health_grid_covers_every_step_in_at_most_width_columns():
    history = HealthHistory(["a", "b"], capacity=8)
    for step in range(1, 8):
        history.add(step, np.array([10.0**step, 1.0]), np.array([1e-3, 0.0]))
    grid = history.grid(GRAD_NORM, 100)
    assert grid.steps == (1, 2, 3, 4, 5, 6, 7) and grid.kind == GRAD_NORM
    assert grid.values[0] == pytest.approx(range(1, 8))
    assert grid.values[1] == pytest.approx([0.0] * 7)
    ratios = history.grid(UPDATE_RATIO, 3)
    assert ratios.steps == (2, 4, 7) and ratios.values.shape == (2, 3)
    assert ratios.values[0] == pytest.approx([-3.0] * 3)
    assert (ratios.values[1] < -29).all()  # a zero ratio: log10 of the floor
    assert history.grid(GRAD_NORM, 3).values[0] == pytest.approx([1.5, 3.5, 6.0])


def test_health_history_merges_old_steps_instead_of_dropping_them():
    history = HealthHistory(["w"], capacity=4)
    for step in range(1, 101):
        history.add(step, np.array([10.0**step]), np.array([1.0]))
    assert len(history) == 100
    grid = history.grid(GRAD_NORM, 1000)
    assert len(grid.steps) <= 5 and grid.steps[-1] == 100
    # every column is the mean of log10 over the steps it covers, and all steps are covered
    first = 0
    for last, value in zip(grid.steps, grid.values[0], strict=True):
        assert value == pytest.approx(np.mean(np.arange(first + 1, last + 1)))
        first = last
    whole = history.grid(GRAD_NORM, 1)
    assert whole.steps == (100,) and whole.values[0, 0] == pytest.approx(50.5)


def test_health_grid_refuses_unknown_kinds():
    history = HealthHistory(["w"], capacity=4)
    with pytest.raises(ValueError):
        history.grid("loss", 10)
    assert history.grid(GRAD_NORM, 10).values.shape == (1, 0)


# Gradient check


@pytest.mark.parametrize(("param", "row", "col"),
                         [("lm_head", 0, 0), ("wte", 0, 3), ("blocks.1.attn.wo", 2, 5),
                          ("blocks.0.mlp_fc1", 7, 1), ("wpe", 1, 2)])
def test_grad_check_agrees_three_ways_and_leaves_the_trainer_alone(trainer, param, row, col):
    before = trainer.model.weight_vector().copy()
    check = grad_check(trainer, param, row, col, names=2)
    assert (trainer.model.weight_vector() == before).all()
    assert abs(check.numpy_grad) > 1e-5  # these weights have gradients worth checking
    assert check.rel_error < 1e-6
    assert check.numpy_grad == pytest.approx(check.scalar_grad, rel=1e-9)
    assert check.weight == before[weight_index(trainer, param, row, col)]
    assert check.batch_names == tuple(trainer.corpus.batch(trainer.step, SMALL.batch_size)[:2])
    model = NumpyGPT(SMALL, trainer.vocab_size, before)
    assert check.loss == pytest.approx(model.loss_and_grad(trainer.batch_tokens(trainer.step)[:2]))


def test_a_gradient_of_the_wrong_weight_would_be_caught(trainer):
    check = grad_check(trainer, "lm_head", 0, 0, names=2)
    batch = trainer.batch_tokens(trainer.step)[:2]
    model = NumpyGPT(SMALL, trainer.vocab_size, trainer.model.weight_vector())
    other = weight_index(trainer, "lm_head", 0, 1)
    numeric = central_difference(model, batch, other, 1e-5)
    wrong = max(abs(check.scalar_grad), abs(numeric))
    assert abs(check.scalar_grad - numeric) / wrong > 1e-2


@pytest.mark.parametrize(("param", "row", "col", "message"),
                         [("nope", 0, 0, "unknown parameter 'nope'"),
                          ("wte", 99, 0, "row must be in"), ("wte", 0, -1, "col")])
def test_grad_check_refuses_a_weight_that_does_not_exist(trainer, param, row, col, message):
    with pytest.raises(ValueError, match=message):
        grad_check(trainer, param, row, col)


# Embedding map


def test_embedding_map_is_the_covariances_top_eigenvectors():
    wte = np.random.default_rng(1).normal(size=(27, 8)) * np.linspace(3, 0.5, 8)
    labels = tuple("abcdefghijklmnopqrstuvwxyz") + (BOS_LABEL,)
    emap = embedding_pca(wte, labels, 7)
    centred = wte - wte.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(centred, rowvar=False))
    order = np.argsort(eigenvalues)[::-1]
    for i in range(2):
        expected = centred @ eigenvectors[:, order[i]]
        assert abs(emap.xy[:, i] @ expected) == pytest.approx(expected @ expected, rel=1e-9)
        assert np.abs(emap.xy[:, i]) == pytest.approx(np.abs(expected), abs=1e-9)
    assert emap.explained == pytest.approx(eigenvalues[order[:2]] / eigenvalues.sum(), rel=1e-9)
    assert emap.labels == labels and emap.step == 7 and emap.xy.shape == (27, 2)


def test_embedding_map_keeps_its_orientation_between_refreshes():
    rng = np.random.default_rng(2)
    wte = rng.normal(size=(27, 8)) * np.linspace(3, 0.5, 8)
    labels = tuple(str(i) for i in range(27))
    first = embedding_pca(wte, labels, 1)
    for sign in (1, -1):
        # the same table with its PCs' loadings flipped, a little trained
        flipped = wte * np.where(np.arange(8) % 2, sign, -sign) + rng.normal(size=wte.shape) * 1e-3
        second = embedding_pca(flipped, labels, 2, previous=first)
        for i in range(2):
            assert second.xy[:, i] @ first.xy[:, i] > 0


def test_the_loops_per_step_health_record_equals_the_plain_one():
    """add_squares (sums of squares, one log10: the training loop's call) records what add
    (norms and ratios) records, step for step."""
    from microgpt_tui.engine.microgpt.grad_health import HealthHistory

    rng = np.random.default_rng(3)
    plain, fast = HealthHistory(["a", "b", "c"], capacity=4), HealthHistory(["a", "b", "c"],
                                                                               capacity=4)
    for step in range(1, 12):
        squares = rng.uniform(1e-8, 4.0, size=(3, 3))
        norms = np.sqrt(squares)
        plain.add(step, norms[0], norms[1] / norms[2])
        fast.add_squares(step, squares.copy())
    for kind in ("grad norm", "update/weight"):
        a, b = plain.grid(kind, 8), fast.grid(kind, 8)
        assert a.steps == b.steps and np.allclose(a.values, b.values, rtol=0, atol=1e-12)
