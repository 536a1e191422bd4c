"""CUDA kernels: the simulator's replay budget, and on a GPU our kernels against their peers.

Always: the CPU twin simulates a 256×256 tiled matmul (numpy tiles + scheduler + trace) in
under a second. With a GPU (H100/H200; n = 4096 matmul; attention N = 4096, d = 64,
batch·heads = 16), the issue's goals:

- matmul_tiled fp32 ≥ 20% of cuBLAS fp32 (TF32 off); matmul_register_blocked ≥ 60% of it;
- flash_attention_fwd fp32 ≥ 3× the naive attention kernels (and, without a goal, against
  torch SDPA's MATH backend in fp32, TF32 off: fp32 SDPA's default on Hopper uses TF32);
- flash_attention_tc bf16 within 2× of torch SDPA's FLASH backend in bf16;
- matmul_tc bf16 ≥ 50% of cuBLAS bf16 (torch.matmul on bf16).

Every kernel's output (and every peer's) is checked against the float64 reference with
execute's tolerance BEFORE it is timed: a wrong output is a failed comparison ("NOT met: wrong
output (max error …)"), never a time. Kernels not in the catalog yet, a missing GPU, and missing
cupy/torch are skipped with a note. Budget on an H200 (estimated, not yet measured): numpy
references ~30 s, NVRTC compiles ~10 s, timing ~6 comparisons × (1 + rounds) samples of ≤ 0.1 s
— about a minute at the default 5 rounds, well under 8 minutes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .runner import Benchmark, Comparison, Goal, Measurement, side_by_side

REPLAY_N = 256
GPU_N = 4096  # matmul n, and attention N
ATTENTION_D = 64
ATTENTION_HEADS = 16  # batch·heads, as real models run
KERNEL_REPEATS = 3  # runtime repeats per sample of ours (the median of them)
PEER_REPEATS = 3  # event-pair samples per sample of a peer (each of many calls)


@dataclass(frozen=True)
class Plan:
    """One comparison: `kernel` against a library peer ("peer") or another of our kernels."""

    kernel: str
    against: str
    goal: Goal | None


PLANS = (
    Plan("matmul_tiled", "peer", Goal(0.20, "≥ 20% of cuBLAS fp32")),
    Plan("matmul_register_blocked", "peer", Goal(0.60, "≥ 60% of cuBLAS fp32")),
    Plan("flash_attention_fwd", "attention_naive", Goal(3.0, "≥ 3× the naive kernels")),
    Plan("flash_attention_fwd", "peer", None),  # SDPA math fp32: shown, no goal in the issue
    Plan("flash_attention_tc", "peer", Goal(0.5, "within 2× of SDPA flash bf16")),
    Plan("matmul_tc", "peer", Goal(0.5, "≥ 50% of cuBLAS bf16")),
)


@dataclass
class FailedComparison(Comparison):
    """A comparison that was not timed because an output was wrong or a run failed."""

    reason: str = ""

    @property
    def met(self) -> bool:
        return False

    @property
    def speedup(self) -> float:
        return math.nan

    def record(self, bench: str) -> dict:
        return {
            "bench": bench, "label": self.label, "ours": self.ours, "peer": self.peer,
            "unit": self.unit, "rounds": 0, "ours_median": None, "peer_median": None,
            "speedup": None, "goal": None if self.goal is None else self.goal.text,
            "goal_min_speedup": None if self.goal is None else self.goal.min_speedup,
            "met": False, "error": self.reason, "note": self.note,
        }

    def line(self, bench: str) -> str:
        goal = "" if self.goal is None else f"{self.goal.text}: "
        return (
            f"{bench + ': ' + self.label:<40.40} {'failed':>11} {'failed':>11} {'':>9}  "
            f"{goal}NOT met: {self.reason}\n"
            f"{'':<4}ours = {self.ours}; peer = {self.peer}; not timed"
            + (f"; {self.note}" if self.note else "")
        )


def problem_for(kernel: str, n: int = GPU_N, d: int = ATTENTION_D,
                heads: int = ATTENTION_HEADS):
    from ...kernels.catalog import Problem, find_kernel

    if find_kernel(kernel).family == "matmul":
        return Problem(kernel, n)
    return Problem(kernel, n, d, heads=heads)


def peer_check(problem, inputs, output: np.ndarray, expected: np.ndarray):
    """A peer's output against the reference: execute's tolerance, plus one bf16 rounding of
    the output for bf16 peers (torch returns bf16 results; ours are fp32)."""
    from dataclasses import replace

    from ...kernels.execute import check_output

    check = check_output(problem, inputs, output, expected)
    if problem.spec.dtype != "bf16":
        return check
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return replace(check, tolerance=check.tolerance + 2.0**-8 * scale)


class _Session:
    """Inputs, references, checks and peers, each made once and shared by the comparisons."""

    def __init__(self, n: int, d: int, heads: int) -> None:
        self.n, self.d, self.heads = n, d, heads
        self.inputs: dict[tuple[str, str], dict[str, np.ndarray]] = {}
        self.expected: dict[tuple[str, str], np.ndarray] = {}
        self.checks: dict[str, str | None] = {}  # kernel → None (right) or why it failed
        self.peers: dict[tuple[str, str], _PeerEntry] = {}  # (family, dtype) → its peer

    def problem(self, kernel: str):
        return problem_for(kernel, self.n, self.d, self.heads)

    def _key(self, problem) -> tuple[str, str]:
        return problem.family, problem.spec.dtype

    def data(self, problem) -> tuple[dict[str, np.ndarray], np.ndarray]:
        from ...kernels.sim import make_inputs, reference

        key = self._key(problem)
        if key not in self.inputs:
            self.inputs[key] = make_inputs(problem)
            self.expected[key] = reference(problem, self.inputs[key])
        return self.inputs[key], self.expected[key]

    def check(self, kernel: str) -> str | None:
        """None when the kernel's output is right; else why (a run failure included)."""
        from ...kernels.execute import check_on_gpu
        from ...kernels.runtime import KernelError

        if kernel not in self.checks:
            problem = self.problem(kernel)
            inputs, expected = self.data(problem)
            try:
                result = check_on_gpu(problem, inputs, expected)
                self.checks[kernel] = None if result.ok else result.describe()
            except (KernelError, ValueError) as error:  # ProblemError is a ValueError
                self.checks[kernel] = f"run failed: {error}"
        return self.checks[kernel]

    def peer(self, problem) -> _PeerEntry:
        """The problem's peer, prepared and its output checked once per family and dtype."""
        from ...kernels import peers

        key = self._key(problem)
        if key not in self.peers:
            inputs, expected = self.data(problem)
            try:
                peer = peers.prepare_peer(problem, inputs)
            except peers.PeerUnavailable as why:
                self.peers[key] = _PeerEntry(None, str(why))
                return self.peers[key]
            except Exception as error:  # noqa: BLE001 (torch and cupy raise their own errors)
                self.peers[key] = _PeerEntry(None, f"peer failed: {type(error).__name__}: "
                                                   f"{error}")
                return self.peers[key]
            try:
                result = peer_check(problem, inputs, peer.output(), expected)
                wrong = None if result.ok else result.describe()
            except Exception as error:  # noqa: BLE001
                wrong = f"failed: {type(error).__name__}: {error}"
            self.peers[key] = _PeerEntry(peer, None, wrong)
        return self.peers[key]


@dataclass(frozen=True)
class _PeerEntry:
    peer: Any  # kernels.peers.Peer, or None when there is none (`skipped` says why)
    skipped: str | None = None
    wrong: str | None = None  # the peer ran but its output is wrong (or it failed)


def _ours(problem, inputs) -> Callable[[], float]:
    from ...kernels import runtime

    return lambda: runtime.run_on_gpu(problem, inputs, repeats=KERNEL_REPEATS,
                                      want_trace=False).seconds


def gpu_comparisons(rounds: int, n: int = GPU_N, d: int = ATTENTION_D,
                    heads: int = ATTENTION_HEADS, plans: tuple[Plan, ...] = PLANS,
                    ) -> tuple[list[Comparison], list[str]]:
    """Each plan checked, then timed side by side; notes say what was skipped and why."""
    from ...kernels import runtime
    from ...kernels.catalog import KERNELS
    from ...kernels.peers import shape_text

    status = runtime.device_status()
    if not status.available:
        return [], [f"GPU comparisons skipped: {status.label}"]
    session = _Session(n, d, heads)
    results: list[Comparison] = []
    notes: list[str] = []
    for plan in plans:
        missing = [k for k in (plan.kernel, plan.against) if k != "peer" and k not in KERNELS]
        if missing:
            notes.append(f"{plan.kernel} vs {plan.against} skipped: {missing[0]} is not in "
                         "the catalog yet")
            continue
        problem = session.problem(plan.kernel)
        dtype = problem.spec.dtype
        inputs, _ = session.data(problem)
        peer = None
        if plan.against == "peer":
            entry = session.peer(problem)
            if entry.peer is None:
                notes.append(f"{plan.kernel}: {entry.skipped}")
                continue
            peer, peer_name, peer_wrong = entry.peer, entry.peer.choice.name, entry.wrong
        else:
            peer_name = f"{plan.against} {dtype} {shape_text(session.problem(plan.against))}"
            peer_wrong = session.check(plan.against)
        comparison = Comparison(
            f"{plan.kernel} vs {'peer' if plan.against == 'peer' else plan.against} {dtype} "
            f"{shape_text(problem)}",
            f"{plan.kernel} {dtype} {shape_text(problem)}", peer_name, "s", plan.goal,
            note=status.label,
        )
        wrong = session.check(plan.kernel)
        if wrong is not None or peer_wrong is not None:
            reason = wrong if wrong is not None else f"peer {peer_wrong}"
            results.append(FailedComparison(**vars(comparison), reason=str(reason)))
            continue
        if peer is not None:
            peer_sample: Callable[[], float] = lambda p=peer: p.time(PEER_REPEATS)  # noqa: E731
        else:
            peer_sample = _ours(session.problem(plan.against), inputs)
        results.append(side_by_side(comparison, _ours(problem, inputs), peer_sample, rounds))
    return results, notes


def _replay_seconds() -> float:
    from ...kernels.catalog import Problem
    from ...kernels.sim import simulate

    start = time.perf_counter()
    simulate(Problem("matmul_tiled", REPLAY_N))
    return time.perf_counter() - start


def _tile() -> int | None:
    from ...kernels.catalog import KERNELS

    return KERNELS["matmul_tiled"].defines.get("TILE")


def run(rounds: int) -> list[Comparison | Measurement]:
    replay = Measurement(
        label=f"simulate {REPLAY_N}×{REPLAY_N} tiled matmul",
        what="CPU twin: numpy tiles, SM scheduler and trace of matmul_tiled "
             f"(TILE {_tile()})",
        unit="s",
        limit=1.0,
        at_most=True,
    )
    _replay_seconds()  # warm-up: imports and numpy's first calls
    replay.samples = [_replay_seconds() for _ in range(rounds)]
    comparisons, notes = gpu_comparisons(rounds)
    replay.note = "; ".join(notes)
    return [replay, *comparisons]


BENCHMARK = Benchmark(
    name="kernels",
    default_rounds=5,
    run=run,
)
