"""CUDA kernels: the simulator's replay budget, and on a GPU our kernels against the libraries.

Always: the CPU twin simulates a 256×256 tiled matmul (numpy tiles + scheduler + trace) in
under a second. With a GPU (fp32; n = 4096 matmul, N = 4096 d = 64 attention): tiled ≥ 10% of
cuBLAS, register-blocked ≥ 40%, flash ≥ 2× the naive attention kernels and within 4× of
PyTorch's SDPA. Without a GPU, or without cupy/torch for a peer, those are skipped with a note.
"""

from __future__ import annotations

import time

from .runner import Benchmark, Comparison, Goal, Measurement, side_by_side

REPLAY_N = 256
GPU_N = 4096


def _replay_seconds() -> float:
    from ...kernels.catalog import Problem
    from ...kernels.sim import simulate

    start = time.perf_counter()
    simulate(Problem("matmul_tiled", REPLAY_N))
    return time.perf_counter() - start


def _gpu_comparisons(rounds: int) -> tuple[list[Comparison], str]:
    from ...kernels.catalog import Problem
    from ...kernels.peers import peer_time
    from ...kernels.runtime import device_status, run_on_gpu
    from ...kernels.sim import make_inputs

    status = device_status()
    if not status.available:
        return [], f"GPU comparisons skipped: {status.label}"

    def gpu_seconds(problem, inputs):
        return lambda: run_on_gpu(problem, inputs, repeats=3, want_trace=False).seconds

    results: list[Comparison] = []
    notes: list[str] = []
    matmul_inputs = make_inputs(Problem("matmul_tiled", GPU_N))
    for kernel, goal in (("matmul_tiled", 0.10), ("matmul_register_blocked", 0.40)):
        problem = Problem(kernel, GPU_N)
        peer = peer_time(problem, matmul_inputs, 1)
        if peer.seconds is None:
            notes.append(f"{kernel} vs cuBLAS skipped: {peer.note}")
            continue
        comparison = Comparison(
            f"{kernel} n={GPU_N} fp32", kernel, peer.name, "s",
            Goal(goal, f"≥ {goal:.0%} of cuBLAS"), note=status.label,
        )
        results.append(side_by_side(
            comparison, gpu_seconds(problem, matmul_inputs),
            lambda p=problem: peer_time(p, matmul_inputs, 3).seconds, rounds,
        ))
    flash = Problem("flash_attention_fwd", GPU_N, 64)
    attention_inputs = make_inputs(flash)
    naive = Problem("attention_naive", GPU_N, 64)
    results.append(side_by_side(
        Comparison(f"flash vs naive attention N={GPU_N} d=64", "flash_attention_fwd",
                   "attention_naive", "s", Goal(2.0, "≥ 2× the naive kernels"),
                   note=status.label),
        gpu_seconds(flash, attention_inputs), gpu_seconds(naive, attention_inputs), rounds,
    ))
    sdpa = peer_time(flash, attention_inputs, 1)
    if sdpa.seconds is None:
        notes.append(f"flash vs SDPA skipped: {sdpa.note}")
    else:
        results.append(side_by_side(
            Comparison(f"flash vs SDPA N={GPU_N} d=64", "flash_attention_fwd", sdpa.name, "s",
                       Goal(0.25, "within 4× of SDPA"), note=status.label),
            gpu_seconds(flash, attention_inputs),
            lambda: peer_time(flash, attention_inputs, 3).seconds, rounds,
        ))
    return results, "; ".join(notes)


def run(rounds: int) -> list[Comparison | Measurement]:
    replay = Measurement(
        label=f"simulate {REPLAY_N}×{REPLAY_N} tiled matmul",
        what="CPU twin: numpy tiles, SM scheduler and trace of matmul_tiled (TILE 16)",
        unit="s",
        limit=1.0,
        at_most=True,
    )
    _replay_seconds()  # warm-up: imports and numpy's first calls
    replay.samples = [_replay_seconds() for _ in range(rounds)]
    comparisons, note = _gpu_comparisons(rounds)
    replay.note = note
    return [replay, *comparisons]


BENCHMARK = Benchmark(
    name="kernels",
    default_rounds=5,
    run=run,
)
