"""One run of a kernel, on the GPU when there is one, else on the simulator: what the CLI, the
screen and the benchmark all call, so they report the same numbers the same way."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .catalog import (
    Problem,
    attention_hbm_bytes,
    check_problem,
    defines_for,
    extra_memory_bytes,
    flop_count,
)
from .sim import (
    FlashRowState,
    as_float,
    check_sim_problem,
    make_inputs,
    max_error,
    reference,
    simulate,
)
from .trace import KernelTrace


@dataclass
class Execution:
    problem: Problem
    defines: dict[str, int]
    simulated: bool
    label: str  # "SIMULATED — no CUDA driver" or the GPU's name
    output: np.ndarray
    max_error: float
    tolerance: float
    trace: KernelTrace | None
    seconds: float | None  # GPU time by CUDA events; None when simulated
    wall_seconds: float  # how long the run took on this machine (the CPU twin's own time)
    hbm_bytes: int | None  # attention only: HBM↔SRAM bytes moved
    extra_memory_bytes: int
    flash_states: dict[tuple[tuple[int, int, int], int], FlashRowState] = field(
        default_factory=dict
    )
    peer_name: str = ""
    peer_seconds: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.max_error <= self.tolerance

    @property
    def gflops(self) -> float | None:
        if not self.seconds:
            return None
        return flop_count(self.problem) / self.seconds / 1e9

    @property
    def percent_of_peer(self) -> float | None:
        if not self.seconds or not self.peer_seconds:
            return None
        return 100.0 * self.peer_seconds / self.seconds

    def record(self) -> dict:
        """The run as a JSON-ready dict (no arrays)."""
        return {
            "kernel": self.problem.kernel,
            "n": self.problem.n,
            "d": self.problem.d if self.problem.family == "attention" else None,
            "causal": self.problem.causal,
            "heads": self.problem.heads,
            "defines": self.defines,
            "simulated": self.simulated,
            "device": self.label,
            "max_error": self.max_error,
            "tolerance": self.tolerance,
            "ok": self.ok,
            "seconds": self.seconds,
            "gflops": self.gflops,
            "wall_seconds": self.wall_seconds,
            "hbm_bytes": self.hbm_bytes,
            "extra_memory_bytes": self.extra_memory_bytes,
            "trace_records": len(self.trace.records) if self.trace else 0,
            "simulated_ns": self.trace.duration_ns if self.trace and self.simulated else None,
            "peer": self.peer_name or None,
            "peer_seconds": self.peer_seconds,
            "percent_of_peer": self.percent_of_peer,
            "notes": self.notes,
        }


def tolerance_for(problem: Problem, expected: np.ndarray,
                  inputs: dict[str, np.ndarray] | None = None) -> float:
    """fp32 against a float64 reference: error grows with the reduction length and magnitude.

    bf16 kernels get their inputs exactly (the reference decodes the same bf16 values) and
    accumulate in fp32, so matmul keeps the fp32 bound; bf16 attention also rounds the
    probabilities P to bf16 before P·V (relative error ≤ 2⁻⁹ each, so ≤ 2⁻⁹·max|V| on O), and
    gets 2⁻⁸·max|V| more.
    """
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    fp32 = 1e-5 * max(1.0, float(np.sqrt(problem.n))) * scale
    if problem.spec.dtype != "bf16" or problem.family != "attention":
        return fp32
    values = as_float(inputs["V"]) if inputs is not None and "V" in inputs else None
    v_max = max(1.0, float(np.max(np.abs(values), initial=0.0))) if values is not None else scale
    return fp32 + 2.0**-8 * v_max


@dataclass(frozen=True)
class OutputCheck:
    """A kernel's output against the float64 reference, with execute's tolerance."""

    max_error: float  # inf when the shape is wrong or a value is not finite
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.max_error <= self.tolerance

    def describe(self) -> str:
        if self.ok:
            return f"output checked (max error {self.max_error:.1e} ≤ {self.tolerance:.1e})"
        return f"wrong output (max error {self.max_error:.1e} > tolerance {self.tolerance:.1e})"


def check_output(problem: Problem, inputs: dict[str, np.ndarray], output: np.ndarray,
                 expected: np.ndarray | None = None) -> OutputCheck:
    """Compare `output` with sim.reference (pass `expected` to reuse one computed before).

    What the benchmark does before timing a kernel, and `kernels doctor --gpu-check` for
    every kernel: a wrong kernel is reported, never timed.
    """
    if expected is None:
        expected = reference(problem, inputs)
    return OutputCheck(max_error(np.asarray(output), expected),
                       tolerance_for(problem, expected, inputs))


def check_on_gpu(problem: Problem, inputs: dict[str, np.ndarray],
                 expected: np.ndarray | None = None) -> OutputCheck:
    """Run `problem` once on GPU 0 (no trace) and check its output against the reference.

    Raises the runtime's KernelError subclasses (no GPU, compile error, CUDA error).
    """
    from .runtime import run_on_gpu

    run = run_on_gpu(problem, inputs, repeats=1, want_trace=False)
    return check_output(problem, inputs, run.output, expected)


def execute(
    problem: Problem,
    *,
    simulate_only: bool = False,
    want_trace: bool = True,
    seed: int = 0,
    repeats: int = 5,
    compare_peer: bool = True,
    registers_per_thread: int | None = None,
) -> Execution:
    """Run on GPU 0 when one is usable (and not `simulate_only`), else on the CPU simulator.

    Raises ProblemError for bad sizes, and on a GPU the runtime's KernelError subclasses.
    """
    from .runtime import GPU_MAX_N, device_status, shared_limits

    status = device_status()
    on_simulator = simulate_only or not status.available
    # Sizes first: the inputs alone of a too large problem take gigabytes and seconds to make.
    if on_simulator:
        check_sim_problem(problem)
    else:
        check_problem(problem, GPU_MAX_N[problem.family])
    # On a GPU the flash tiles are sized for its shared memory (kernels/budget.py).
    limits = None if on_simulator or status.info is None else shared_limits(status.info)
    defines = defines_for(problem, limits=limits)
    inputs = make_inputs(problem, seed)
    start = time.perf_counter()
    notes: list[str] = []
    trace: KernelTrace | None  # the simulator always records one; a GPU run when asked
    if on_simulator:
        result = simulate(problem, inputs, defines=defines,
                          registers_per_thread=registers_per_thread)
        wall = time.perf_counter() - start
        output, trace, seconds, states = result.output, result.trace, None, result.flash_states
        label = "SIMULATED — chosen with --sim" if status.available else status.label
        peer_name, peer_seconds = "", None
    else:
        from .peers import peer_time
        from .runtime import run_on_gpu

        gpu = run_on_gpu(problem, inputs, defines=defines, repeats=repeats,
                         want_trace=want_trace)
        wall = time.perf_counter() - start
        output, trace, seconds, states = gpu.output, gpu.trace, gpu.seconds, {}
        label, notes = status.label, gpu.notes
        peer_name, peer_seconds = "", None
        if compare_peer:
            peer = peer_time(problem, inputs, repeats)
            peer_name, peer_seconds = peer.name, peer.seconds
            if peer.note:
                notes.append(peer.note)
    expected = reference(problem, inputs)
    return Execution(
        problem=problem,
        defines=defines,
        simulated=seconds is None,
        label=label,
        output=output,
        max_error=max_error(output, expected),
        tolerance=tolerance_for(problem, expected, inputs),
        trace=trace,
        seconds=seconds,
        wall_seconds=wall,
        hbm_bytes=attention_hbm_bytes(problem, defines) if problem.family == "attention" else None,
        extra_memory_bytes=extra_memory_bytes(problem),
        flash_states=states,
        peer_name=peer_name,
        peer_seconds=peer_seconds,
        notes=notes,
    )
