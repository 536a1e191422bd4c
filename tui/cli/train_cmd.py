"""`microgpt-tui train`: train MicroGPT headless, printing the reference's step lines and names."""

from __future__ import annotations

import argparse

from ...engine.data import DatasetError, load_names
from ...engine.microgpt.checkpoint import (
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    resume_trainer,
    save_checkpoint,
)
from ...engine.microgpt.config import ENGINES, Config, ConfigError
from ...engine.microgpt.trainer import Trainer
from .output import CLIError, Output, seed_type

HELP = (
    "Train MicroGPT on the names dataset (defaults: the reference program's model, seed 42, 20 "
    "steps), print 'Step 1/20, Loss: 3.2809' lines, the held-out loss, then generated names. "
    "--engine scalar trains on scalar autograd (about 0.3 s a step); numpy is ~300x faster."
)

# CLI option -> Config field, for the model hyperparameters (None = keep the default).
MODEL_OPTIONS = {
    "n_embed": "n_embed", "n_head": "n_head", "n_layer": "n_layer", "block_size": "block_size",
    "batch_size": "batch_size", "lr": "learning_rate", "seed": "seed",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=ENGINES, default="numpy",
                        help="numpy (fast, default) or scalar (autograd on Python floats)")
    parser.add_argument("--steps", type=int, metavar="N",
                        help="length of the schedule (default 20, or the checkpoint's)")
    parser.add_argument("--stop-at", type=int, metavar="STEP",
                        help="stop after this step (the schedule still spans --steps); "
                        "use with --save to resume later")
    parser.add_argument("--batch-size", type=int, metavar="B", help="names per step (default 8)")
    parser.add_argument("--seed", type=seed_type, metavar="S", help="random seed (default 42)")
    # SUPPRESS: unset unless given, so the global `microgpt-tui --data PATH train` shows through.
    parser.add_argument("--data", metavar="PATH", default=argparse.SUPPRESS,
                        help="a names file: one name per line")
    parser.add_argument("--save", metavar="PATH", help="write a checkpoint here at the end")
    parser.add_argument("--resume", metavar="PATH", help="continue from a checkpoint")
    parser.add_argument("--n-embed", type=int, metavar="C", help="embedding width (default 16)")
    parser.add_argument("--n-head", type=int, metavar="H", help="attention heads (default 4)")
    parser.add_argument("--n-layer", type=int, metavar="L", help="transformer blocks (default 1)")
    parser.add_argument("--block-size", type=int, metavar="T", help="context length (default 16)")
    parser.add_argument("--lr", type=float, metavar="LR", help="peak learning rate (0.01)")
    parser.add_argument("--temperature", type=float, metavar="T",
                        help="sampling temperature (default 0.5)")
    parser.add_argument("--samples", type=int, default=10, metavar="N",
                        help="names to generate after training (default 10)")


def _given(args) -> dict:
    """Config fields the user set on the command line."""
    given = {field: getattr(args, option) for option, field in MODEL_OPTIONS.items()
             if getattr(args, option) is not None}
    if args.temperature is not None:
        given["temperature"] = args.temperature
    return given


def _new_config(args) -> Config:
    given = _given(args)
    if args.steps is not None:
        given["num_steps"] = args.steps
    return Config().with_changes(**given)


def _resume(args, checkpoint: Checkpoint, names: list[str], out: Output) -> Trainer:
    given = _given(args)
    for option, field in MODEL_OPTIONS.items():
        if field in given and getattr(checkpoint.config, field) != given[field]:
            raise CLIError(
                f"--{option.replace('_', '-')} {given[field]} differs from the checkpoint's "
                f"{getattr(checkpoint.config, field)}; a resumed run keeps its configuration")
    trainer = resume_trainer(checkpoint, names, args.engine, args.steps)
    if checkpoint.data_fingerprint != trainer.data_fingerprint:
        out.notice("Note: the checkpoint was trained on another names list; continuing on this one")
    if args.temperature is not None:
        trainer.config = trainer.config.with_changes(temperature=args.temperature)
    return trainer


def run(args, out: Output) -> int:
    if args.samples < 0:
        raise CLIError(f"--samples must be ≥ 0, got {args.samples}")
    try:
        config = None if args.resume else _new_config(args)
        if config is not None and args.stop_at is not None and not (
                1 <= args.stop_at <= config.num_steps):
            raise CLIError(f"--stop-at must be in 1..{config.num_steps}, got {args.stop_at}")
        # a bad checkpoint fails before any data is read
        checkpoint = load_checkpoint(args.resume) if args.resume else None
        dataset = load_names(args.data, progress=out.download_progress())
        if dataset.notice:
            out.notice(dataset.notice)
        trainer = Trainer(dataset.names, config, args.engine) if config else _resume(
            args, checkpoint, dataset.names, out)
    except (ConfigError, CheckpointError, DatasetError) as error:
        raise CLIError(str(error)) from None
    cfg = trainer.config
    if trainer.done:
        raise CLIError(f"the checkpoint has finished its schedule (step {trainer.step} of "
                       f"{cfg.num_steps}); pass --steps N above {trainer.step} to train longer")
    stop = cfg.num_steps if args.stop_at is None else args.stop_at
    if not trainer.step < stop <= cfg.num_steps:
        raise CLIError(f"--stop-at must be in {trainer.step + 1}..{cfg.num_steps}, got {stop}")
    out.text(f"Number of docs: {len(trainer.corpus.docs)}")
    out.text(f"Vocab size: {trainer.vocab_size}")
    out.text(f"Number of parameters: {trainer.layout.size}")
    if trainer.step:
        out.text(f"Resuming at step {trainer.step}/{cfg.num_steps}")
    for event in trainer.run(stop - trainer.step):
        out.emit(event.record(), f"Step {event.step}/{event.num_steps}, Loss: {event.loss:.4f}")
    heldout = trainer.heldout_loss()
    if heldout is not None:
        count = len(trainer.corpus.heldout)
        out.emit({"heldout_loss": heldout, "heldout_names": count},
                 f"Held-out loss: {heldout:.4f} nats/token on {count:,} names")
    if args.save:
        try:
            path = save_checkpoint(args.save, trainer)
        except CheckpointError as error:
            raise CLIError(str(error)) from None
        out.emit({"saved": str(path), "step": trainer.step},
                 f"Saved checkpoint at step {trainer.step} to {path}")
    if args.samples:
        out.text("\nGenerated names:")
        for name in trainer.sample(args.samples):
            out.emit({"name": name}, name)
    return 0
