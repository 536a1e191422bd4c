"""`microgpt-tui train`: train MicroGPT headless, printing the reference's step lines and names."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ...engine.data import DatasetError, load_names
from ...engine.microgpt.checkpoint import (
    Checkpoint,
    CheckpointError,
    check_save_path,
    load_checkpoint,
    resume_trainer,
    save_checkpoint,
)
from ...engine.microgpt.config import ENGINES, Config, ConfigError
from ...engine.microgpt.trainer import Trainer, TrainingDiverged
from .output import CLIError, CommandFailed, Output, seed_type
from .sample_cmd import (
    EMPTY_NAMES_HELP,
    MAX_NAMES,
    TEMPERATURE_HELP,
    check_cli_temperature,
    emit_names,
)

HELP = (
    "Train MicroGPT on the names dataset (defaults: the reference program's model, seed 42, 20 "
    "steps), print 'Step 1/20, Loss: 3.2809' lines, the held-out loss, then generated names. "
    "--engine scalar trains on scalar autograd (about 0.3 s a step); numpy is ~300x faster. "
    "A run whose loss or weights overflow stops with 'training diverged at step K' (exit 1) "
    "and saves nothing. " + EMPTY_NAMES_HELP
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
    parser.add_argument("--save", metavar="PATH",
                        help="write a checkpoint here at the end, or at the first Ctrl+C (a "
                        "second one stops at once); checked before training; never the run's "
                        "--data file (the --resume checkpoint may be updated)")
    parser.add_argument("--resume", metavar="PATH", help="continue from a checkpoint")
    parser.add_argument("--n-embed", type=int, metavar="C", help="embedding width (default 16)")
    parser.add_argument("--n-head", type=int, metavar="H", help="attention heads (default 4)")
    parser.add_argument("--n-layer", type=int, metavar="L", help="transformer blocks (default 1)")
    parser.add_argument("--block-size", type=int, metavar="T", help="context length (default 16)")
    parser.add_argument("--lr", type=float, metavar="LR", help="peak learning rate (0.01)")
    parser.add_argument("--temperature", type=float, metavar="T",
                        help=f"sampling temperature, {TEMPERATURE_HELP} (default 0.5)")
    parser.add_argument("--samples", type=int, default=10, metavar="N",
                        help=f"names to generate after training, 0 to {MAX_NAMES:,} "
                        "(default 10)")


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
    if not 0 <= args.samples <= MAX_NAMES:
        raise CLIError(f"--samples must be between 0 and {MAX_NAMES:,}, got {args.samples}")
    check_cli_temperature(args.temperature)
    try:
        if args.save is not None:  # a run is never trained for a path that cannot be written
            check_save_path(args.save, inputs=[args.data])
        config = None if args.resume else _new_config(args)
        if config is not None and args.stop_at is not None and not (
                1 <= args.stop_at <= config.num_steps):
            raise CLIError(f"--stop-at must be in 1..{config.num_steps}, got {args.stop_at}")
        # a bad checkpoint fails before any data is read
        checkpoint = load_checkpoint(args.resume) if args.resume else None
        dataset = load_names(args.data)
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
    try:
        with _interrupt_requests(enabled=args.save is not None) as interrupted:
            for event in trainer.run(stop - trainer.step):
                out.emit(event.record(),
                         f"Step {event.step}/{event.num_steps}, Loss: {event.loss:.4f}")
                if interrupted():
                    break
        trainer.check_finite_outputs()
    except TrainingDiverged as error:
        raise CommandFailed(str(error)) from None
    if args.save is not None and interrupted():
        _save(args, trainer, out)
        raise KeyboardInterrupt  # main() says "interrupted" and exits 130
    heldout = trainer.heldout_loss()
    if heldout is not None:
        count = len(trainer.corpus.heldout)
        out.emit({"heldout_loss": heldout, "heldout_names": count},
                 f"Held-out loss: {heldout:.4f} nats/token on {count:,} names")
    if args.save is not None:
        _save(args, trainer, out)
    if args.samples:
        out.text("\nGenerated names:")
        emit_names(out, trainer.sample(args.samples))
    return 0


def _save(args, trainer: Trainer, out: Output) -> None:
    try:
        path = save_checkpoint(args.save, trainer, inputs=[args.data])
    except CheckpointError as error:
        raise CommandFailed(str(error)) from None
    out.emit({"saved": str(path), "step": trainer.step},
             f"Saved checkpoint at step {trainer.step} to {path}")


@contextmanager
def _interrupt_requests(enabled: bool) -> Iterator[Callable[[], bool]]:
    """While training with --save: the first Ctrl+C only asks the loop to stop after the
    current step, so the state saved is a whole step's; a second one interrupts at once.

    Yields a function telling whether Ctrl+C was pressed. Off the main thread (where signal
    handlers cannot be set) or without --save, Ctrl+C interrupts at once as usual.
    """
    pressed = threading.Event()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield pressed.is_set
        return
    # None: a handler set outside Python; Python's own is the nearest thing to put back
    previous = signal.getsignal(signal.SIGINT) or signal.default_int_handler

    def request_stop(signum, frame) -> None:
        pressed.set()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, request_stop)
    try:
        yield pressed.is_set
    finally:
        signal.signal(signal.SIGINT, previous)
