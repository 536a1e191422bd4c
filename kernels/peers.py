"""The libraries our kernels are measured against on a GPU: cuBLAS and PyTorch's SDPA.

cuBLAS is reached through cupy (or torch.matmul when only torch is installed); attention
through torch.nn.functional.scaled_dot_product_attention. Neither is a dependency: when they
are missing, or there is no GPU, the answer is a note saying why, never an error.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np

from .catalog import Problem


@dataclass(frozen=True)
class PeerTime:
    name: str  # "cuBLAS (cupy)", "PyTorch SDPA"
    seconds: float | None  # median of the repeats; None when unavailable
    note: str = ""


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _cupy():
    try:
        import cupy
    except ImportError:
        return None
    try:
        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # noqa: BLE001 (cupy raises its own CUDA errors without a GPU)
        return None


def _time_events(make_event, elapsed_ms, run, repeats: int) -> float:
    """Median seconds of `run` between two CUDA events, after one warm-up call.

    cupy and torch differ only in how an event is made and how the milliseconds between two
    are read; `make_event()` and `elapsed_ms(start, stop)` supply those.
    """
    start, stop = make_event(), make_event()
    run()
    samples = []
    for _ in range(repeats):
        start.record()
        run()
        stop.record()
        stop.synchronize()
        samples.append(elapsed_ms(start, stop) / 1e3)
    return statistics.median(samples)


def _time_cupy(cupy, run, repeats: int) -> float:
    return _time_events(cupy.cuda.Event, cupy.cuda.get_elapsed_time, run, repeats)


def _time_torch(torch, run, repeats: int) -> float:
    return _time_events(lambda: torch.cuda.Event(enable_timing=True),
                        lambda start, stop: start.elapsed_time(stop), run, repeats)


def peer_time(problem: Problem, inputs: dict[str, np.ndarray], repeats: int = 5) -> PeerTime:
    """Time the library doing the same fp32 work on GPU 0 (TF32 off, so the work matches).

    A peer that fails (out of memory, a CUDA error inside cupy or torch) yields a note, not an
    exception: the comparison is optional, our own result still stands.
    """
    try:
        return _peer_time(problem, inputs, repeats)
    except Exception as error:  # noqa: BLE001 (cupy and torch raise their own error types)
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return PeerTime("peer", None, f"peer timing failed: {type(error).__name__}: {first}")


def _peer_time(problem: Problem, inputs: dict[str, np.ndarray], repeats: int) -> PeerTime:
    if problem.family == "matmul":
        cupy = _cupy()
        if cupy is not None:
            a, b = cupy.asarray(inputs["A"]), cupy.asarray(inputs["B"])
            return PeerTime("cuBLAS (cupy)", _time_cupy(cupy, lambda: a @ b, repeats))
        torch = _torch_cuda()
        if torch is None:
            return PeerTime("cuBLAS", None, "install cupy or torch with CUDA to compare")
        torch.backends.cuda.matmul.allow_tf32 = False  # cuBLAS SGEMM in true fp32, like ours
        a, b = (torch.from_numpy(inputs[k]).cuda() for k in ("A", "B"))
        return PeerTime("cuBLAS (torch.matmul)", _time_torch(torch, lambda: a @ b, repeats))
    torch = _torch_cuda()
    if torch is None:
        return PeerTime("PyTorch SDPA", None, "install torch with CUDA to compare")
    torch.backends.cuda.matmul.allow_tf32 = False
    q, k, v = (torch.from_numpy(inputs[key]).cuda()[None] for key in ("Q", "K", "V"))
    sdpa = torch.nn.functional.scaled_dot_product_attention
    return PeerTime(
        "PyTorch SDPA",
        _time_torch(torch, lambda: sdpa(q, k, v, is_causal=problem.causal), repeats),
    )
