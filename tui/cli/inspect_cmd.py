"""`microgpt-tui inspect`: the Training screen's inspection views, headless.

Trains a model (or reads a checkpoint) and prints one view: a name's per-token losses, why the
model predicted a character, a gradient checked three ways, the embedding map, or gradient
health over the run.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

import numpy as np

from ...engine.data import DatasetError, load_names
from ...engine.microgpt.checkpoint import CheckpointError, load_checkpoint, resume_trainer
from ...engine.microgpt.config import Config, ConfigError, check_temperature
from ...engine.microgpt.trainer import Trainer, TrainingDiverged
from .output import CLIError, CommandFailed, Output, seed_type

VIEWS = ("tokens", "why", "gradcheck", "embed", "health")
NAME_VIEWS = ("tokens", "why")
MAX_STEPS = 100_000
SHOWN_TERMS = 8  # a stage's terms printed in text; --json has them all
SHADES = " .:-=+*#%@"

HELP = (
    "Train MicroGPT (--steps, default 200, on the bundled names with --seed) or read "
    "--checkpoint, then print one inspection view: 'tokens NAME' (each next character's "
    "probability and loss), 'why NAME --position P' (p(c) taken apart: logits, lm_head, "
    "residual stream, attention), 'gradcheck --param P --row R --col C' (one weight's "
    "gradient by scalar autograd, the NumPy backward and a finite difference), 'embed' (the "
    "embedding table's top two principal components) or 'health' (per-tensor gradient norms "
    "and update/weight ratios over the run; needs training, not --checkpoint)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("view", choices=VIEWS, help="what to show")
    parser.add_argument("name", nargs="?",
                        help="tokens, why: the name (default: the first held-out name)")
    parser.add_argument("--steps", type=int, default=200, metavar="N",
                        help=f"training steps before inspecting, 0 to {MAX_STEPS:,} "
                        "(default 200)")
    parser.add_argument("--seed", type=seed_type, metavar="S", help="random seed (default 42)")
    parser.add_argument("--data", metavar="PATH", default=argparse.SUPPRESS,
                        help="a names file: one name per line (default: the bundled names)")
    parser.add_argument("--checkpoint", metavar="PATH",
                        help="inspect this checkpoint instead of training")
    parser.add_argument("--position", type=int, default=0, metavar="P",
                        help="why: the position whose prediction is explained, 0 = after "
                        "reading only the start (default 0)")
    parser.add_argument("--char", metavar="C",
                        help="why: the character explained (default: the one that comes next)")
    parser.add_argument("--temperature", type=float, default=1.0, metavar="T",
                        help="why: the temperature of p(c) (default 1)")
    parser.add_argument("--top", type=int, default=5, metavar="K",
                        help="tokens, why: candidates listed per position, 1 to 50 (default 5)")
    parser.add_argument("--param", metavar="P", help="gradcheck: the weight matrix, e.g. lm_head")
    parser.add_argument("--row", type=int, default=0, metavar="R", help="gradcheck: row (0)")
    parser.add_argument("--col", type=int, default=0, metavar="C", help="gradcheck: col (0)")
    parser.add_argument("--names", type=int, default=1, metavar="N",
                        help="gradcheck: names of the current batch to use, 1 to the batch "
                        "size (default 1)")
    parser.add_argument("--h", type=float, default=1e-5, metavar="H",
                        help="gradcheck: finite-difference step (default 1e-5)")
    parser.add_argument("--width", type=int, default=60, metavar="W",
                        help="health: columns of the grid, 1 to 1000 (default 60)")


def _check(args) -> None:
    if args.name is not None and args.view not in NAME_VIEWS:
        raise CLIError(f"'inspect {args.view}' takes no NAME (only tokens and why do)")
    if not 0 <= args.steps <= MAX_STEPS:
        raise CLIError(f"--steps must be between 0 and {MAX_STEPS:,}, got {args.steps}")
    if not 1 <= args.top <= 50:
        raise CLIError(f"--top must be between 1 and 50, got {args.top}")
    if not 1 <= args.width <= 1000:
        raise CLIError(f"--width must be between 1 and 1000, got {args.width}")
    if args.view == "gradcheck" and args.param is None:
        raise CLIError("'inspect gradcheck' needs --param (e.g. --param lm_head)")
    if args.view == "health" and args.checkpoint is not None:
        raise CLIError("'inspect health' records the run while training; it cannot use "
                       "--checkpoint")
    try:
        check_temperature(args.temperature, "--temperature")
    except ConfigError as error:
        raise CLIError(str(error)) from None


class Subject:
    """The model inspected: a trainer (after training) or a checkpoint's weights."""

    def __init__(self, model, tokenizer, step: int, trainer: Trainer | None = None,
                 heldout: list[str] | None = None, history=None) -> None:
        self.model, self.tokenizer, self.step = model, tokenizer, step
        self.trainer, self.heldout, self.history = trainer, heldout or [], history


def _train(args, out: Output) -> Subject:
    from ...engine.microgpt.grad_health import HealthHistory

    data = getattr(args, "data", None)
    try:
        config = Config().with_changes(num_steps=max(args.steps, 1),
                                       **({} if args.seed is None else {"seed": args.seed}))
        dataset = load_names(data)
        trainer = Trainer(dataset.names, config)
    except (ConfigError, DatasetError) as error:
        raise CLIError(str(error)) from None
    history = HealthHistory(trainer.layout.names) if args.view == "health" else None
    try:
        for _ in range(args.steps):
            trainer.train_step()
            if history is not None:
                history.record(trainer)
        trainer.check_finite_outputs()
    except TrainingDiverged as error:
        raise CommandFailed(str(error)) from None
    return Subject(trainer.numpy_model(), trainer.tokenizer, trainer.step, trainer,
                   trainer.corpus.heldout, history)


def _from_checkpoint(args) -> Subject:
    try:
        checkpoint = load_checkpoint(args.checkpoint)
        trainer = None
        heldout: list[str] = []
        if args.view == "gradcheck" or (args.view in NAME_VIEWS and args.name is None):
            # the batch (gradcheck) and the held-out names come from the data
            dataset = load_names(getattr(args, "data", None))
            trainer = resume_trainer(checkpoint, dataset.names)
            heldout = trainer.corpus.heldout
    except (CheckpointError, DatasetError, ConfigError) as error:
        raise CLIError(str(error)) from None
    return Subject(checkpoint.model(), checkpoint.tokenizer, checkpoint.step, trainer, heldout)


def run(args, out: Output) -> int:
    _check(args)
    subject = _from_checkpoint(args) if args.checkpoint else _train(args, out)
    source = "typed"
    if args.view in NAME_VIEWS and args.name is None:
        if not subject.heldout:
            raise CLIError(f"'inspect {args.view}' needs a NAME (this data holds none out)")
        args.name, source = subject.heldout[0], "held-out"
    try:
        {"tokens": _tokens, "why": _why, "gradcheck": _gradcheck, "embed": _embed,
         "health": _health}[args.view](args, subject, out, source)
    except ValueError as error:  # the engines' one-line refusals: a bad name, position, weight
        raise CLIError(str(error)) from None
    return 0


def _tokens(args, subject: Subject, out: Output, source: str) -> None:
    from ...engine.microgpt.token_losses import token_strip

    strip = token_strip(subject.model, subject.tokenizer, args.name, source, subject.step,
                        k=args.top)
    lines = [f"{strip.name!r} ({strip.source}) at step {strip.step}: mean loss "
             f"{strip.mean_loss:.4f} nats over {len(strip.tokens)} predictions",
             f"{'pos':>3}  {'read':<14} {'next':<6} {'p(next)':>8} {'loss':>7}  top {args.top}"]
    for token in strip.tokens:
        read = _tail("⟨bos⟩" + token.context, 14)
        top = "  ".join(f"{label} {p:.2f}" for label, p in token.top)
        lines.append(f"{token.position:>3}  {read:<14} {token.target:<6} {token.prob:>8.4f} "
                     f"{token.loss:>7.3f}  {top}")
    out.emit({"view": "tokens", **asdict(strip), "mean_loss": strip.mean_loss},
             "\n".join(lines))


def _tail(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


def _why(args, subject: Subject, out: Output, source: str) -> None:
    from ...engine.microgpt.why import explain

    chain = explain(subject.model, subject.tokenizer, args.name, args.position,
                    args.temperature, subject.step, char=args.char, k=args.top)
    lines = [f"Why {chain.char!r} after '⟨bos⟩{chain.context}' in {chain.name!r} "
             f"(position {chain.position}, step {chain.step})?"]
    for stage in chain.stages:
        lines += ["", f"[{stage.key}] {stage.title}", f"  {stage.formula}"]
        for term in stage.terms[:SHOWN_TERMS]:
            detail = f"  ({term.detail})" if term.detail else ""
            lines.append(f"  {term.label:<24} {term.value:+.4f}{detail}")
        if len(stage.terms) > SHOWN_TERMS:
            rest = sum(term.value for term in stage.terms[SHOWN_TERMS:])
            more = f"… {len(stage.terms) - SHOWN_TERMS} more"
            lines.append(f"  {more:<24} {rest:+.4f}")
        if stage.total is not None:
            lines.append(f"  {'total':<24} {stage.total:+.4f}")
    out.emit({"view": "why", **asdict(chain)}, "\n".join(lines))


def _gradcheck(args, subject: Subject, out: Output, source: str) -> None:
    from ...engine.microgpt.gradcheck import grad_check

    trainer = subject.trainer
    assert trainer is not None
    if not 1 <= args.names <= trainer.config.batch_size:
        raise CLIError(f"--names must be between 1 and {trainer.config.batch_size}, "
                       f"got {args.names}")
    check = grad_check(trainer, args.param, args.row, args.col, h=args.h, names=args.names)
    verdict = "agree" if check.agrees else "DISAGREE"
    text = "\n".join([
        f"{check.param}[{check.row}, {check.col}] = {check.weight:+.6f} at step {check.step}, "
        f"on {', '.join(check.batch_names)} (loss {check.loss:.6f})",
        f"  scalar autograd   {check.scalar_grad:+.12e}",
        f"  numpy backward    {check.numpy_grad:+.12e}",
        f"  finite difference {check.numeric_grad:+.12e}  (h = {check.h:g})",
        f"  relative error {check.rel_error:.2e}: {verdict}",
    ])
    out.emit({"view": "gradcheck", **asdict(check), "rel_error": check.rel_error}, text)


def _embed(args, subject: Subject, out: Output, source: str) -> None:
    from ...engine.microgpt.embedding_map import embedding_pca
    from ...engine.microgpt.token_losses import token_labels

    emap = embedding_pca(subject.model.w["wte"], token_labels(subject.tokenizer), subject.step)
    lines = [f"Token embeddings at step {emap.step} on their top two principal components "
             f"(PC1 {emap.explained[0]:.1%}, PC2 {emap.explained[1]:.1%} of the variance)"]
    lines += _scatter(emap.labels, emap.xy)
    lines += [f"  {label:<6} {x:+.4f} {y:+.4f}" for label, (x, y) in zip(emap.labels, emap.xy,
                                                                          strict=True)]
    out.emit({"view": "embed", **asdict(emap)}, "\n".join(lines))


def _scatter(labels, xy: np.ndarray, width: int = 56, height: int = 16) -> list[str]:
    """The points as their labels' first characters on a character grid (* for ⟨bos⟩)."""
    grid = [[" "] * width for _ in range(height)]
    low, high = xy.min(axis=0), xy.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    for label, (x, y) in zip(labels, xy, strict=True):
        col = int(round((x - low[0]) / span[0] * (width - 1)))
        row = int(round((high[1] - y) / span[1] * (height - 1)))
        grid[row][col] = label if len(label) == 1 else "*"
    return ["  |" + "".join(row) + "|" for row in grid]


def _health(args, subject: Subject, out: Output, source: str) -> None:
    from ...engine.microgpt.grad_health import KINDS

    history = subject.history
    if history is None or len(history) == 0:
        raise CLIError("'inspect health' needs at least one training step (--steps N)")
    for kind in KINDS:
        grid = history.grid(kind, args.width)
        out.emit({"view": "health", **asdict(grid)}, "\n".join(_heat(grid)))


def _heat(grid) -> list[str]:
    finite = grid.values[np.isfinite(grid.values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    scale = (len(SHADES) - 1) / (high - low) if high > low else 0.0
    width = max(len(name) for name in grid.names)
    lines = [f"log10 {grid.kind} per tensor, steps 1..{grid.steps[-1]} in {len(grid.steps)} "
             f"columns; '{SHADES[1]}' = {low:.2f} … '{SHADES[-1]}' = {high:.2f}"]
    for name, row in zip(grid.names, grid.values, strict=True):
        cells = "".join("?" if not np.isfinite(v) else SHADES[max(1, int(round((v - low)
                                                                           * scale)))]
                        for v in row)
        lines.append(f"  {name:<{width}} |{cells}|")
    return lines
