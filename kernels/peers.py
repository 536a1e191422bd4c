"""The libraries our kernels are measured against on a GPU, chosen like for like.

Which peer a kernel meets is a pure choice (`choose_peer`, tested without a GPU):

- fp32 matmul: cuBLAS SGEMM in true fp32 — cupy's default (no CUPY_TF32), else torch.matmul
  with TF32 off (`torch.backends.cuda.matmul.allow_tf32 = False`), as our kernels use plain FMA;
- bf16 matmul (tensor cores): cuBLAS bf16 through torch.matmul on bf16 tensors (fp32 accumulate);
- fp32 attention: torch SDPA's MATH backend with TF32 off (the default fp32 SDPA on Hopper uses
  TF32 tensor cores, which our fp32 kernels do not);
- bf16 attention (tensor cores): torch SDPA's FLASH_ATTENTION backend on bf16 tensors.

Every peer's name says its dtype, backend and shape. bf16 inputs arrive as uint16 bit patterns
and are reinterpreted (never converted) as torch.bfloat16. Timing: a warm-up call, then CUDA
events around many calls per sample (enough for ~20 ms), so launch overhead does not count.
Neither torch nor cupy is a dependency: missing, or no GPU, gives a note, never an error.
"""

from __future__ import annotations

import contextlib
import os
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .catalog import Problem

SAMPLE_SECONDS = 0.02  # aim for this much GPU time between one pair of events
MAX_ITERATIONS = 1000


@dataclass(frozen=True)
class PeerTime:
    name: str  # e.g. "cuBLAS fp32, TF32 off (cupy) n=4096"
    seconds: float | None  # median of the repeats (per call); None when unavailable
    note: str = ""


@dataclass(frozen=True)
class PeerChoice:
    """Which library call is the like-for-like peer of a problem, and its label."""

    library: str  # "cupy" or "torch"
    op: str  # "matmul" or "sdpa"
    dtype: str  # "fp32" or "bf16": the peer's input type, the same as our kernel's
    backend: str  # "cuBLAS" or "SDPA math" / "SDPA flash"
    sdpa_backend: str | None  # torch.nn.attention.SDPBackend member: "MATH", "FLASH_ATTENTION"
    name: str  # dtype, backend, library and shape, e.g. "SDPA math fp32 (torch) N=4096 d=64 …"


def shape_text(problem: Problem) -> str:
    if problem.family == "matmul":
        return f"n={problem.n}"
    causal = " causal" if problem.causal else ""
    return f"N={problem.n} d={problem.d} b·h={problem.heads}{causal}"


def choose_peer(problem: Problem, *, have_torch: bool, have_cupy: bool,
                cupy_tf32: bool = False) -> PeerChoice | str:
    """The peer for `problem` given which libraries can reach a GPU, or a note why none.

    `cupy_tf32`: CUPY_TF32=1 is set, so cupy's fp32 matmul would use TF32; torch is used
    instead (or none).
    """
    dtype = problem.spec.dtype
    shape = shape_text(problem)
    if problem.family == "matmul":
        if dtype == "fp32":
            if have_cupy and not cupy_tf32:
                return PeerChoice("cupy", "matmul", "fp32", "cuBLAS", None,
                                  f"cuBLAS fp32, TF32 off (cupy) {shape}")
            if have_torch:
                return PeerChoice("torch", "matmul", "fp32", "cuBLAS", None,
                                  f"cuBLAS fp32, TF32 off (torch.matmul) {shape}")
            return ("cuBLAS fp32 peer skipped: install cupy (without CUPY_TF32=1) or torch "
                    "with CUDA to compare")
        if have_torch:  # cupy has no bfloat16 type
            return PeerChoice("torch", "matmul", "bf16", "cuBLAS", None,
                              f"cuBLAS bf16 (torch.matmul) {shape}")
        return "cuBLAS bf16 peer skipped: install torch with CUDA to compare"
    if not have_torch:
        return f"SDPA {dtype} peer skipped: install torch with CUDA to compare"
    if dtype == "fp32":
        return PeerChoice("torch", "sdpa", "fp32", "SDPA math", "MATH",
                          f"SDPA math fp32, TF32 off (torch) {shape}")
    return PeerChoice("torch", "sdpa", "bf16", "SDPA flash", "FLASH_ATTENTION",
                      f"SDPA flash bf16 (torch) {shape}")


def iterations_for(one_call_seconds: float, target: float = SAMPLE_SECONDS,
                   most: int = MAX_ITERATIONS) -> int:
    """How many calls to time between one pair of events so a sample is ~`target` long."""
    if not one_call_seconds > 0:
        return most
    return max(1, min(most, round(target / one_call_seconds)))


def bf16_bits_view(array: np.ndarray) -> np.ndarray:
    """uint16 bf16 bit patterns as int16 (torch has no uint16 to reinterpret from)."""
    return np.ascontiguousarray(array).view(np.int16)


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
    """Median seconds per call of `run`: a warm-up call, one call to size the samples, then
    `repeats` samples of many calls each between two CUDA events.

    cupy and torch differ only in how an event is made and how the milliseconds between two
    are read; `make_event()` and `elapsed_ms(start, stop)` supply those.
    """
    start, stop = make_event(), make_event()

    def sample(calls: int) -> float:
        start.record()
        for _ in range(calls):
            run()
        stop.record()
        stop.synchronize()
        return elapsed_ms(start, stop) / 1e3 / calls

    run()  # warm-up: library handles, kernel selection, clocks
    calls = iterations_for(sample(1))
    return statistics.median(sample(calls) for _ in range(max(1, repeats)))


def _time_cupy(cupy, run, repeats: int) -> float:
    return _time_events(cupy.cuda.Event, cupy.cuda.get_elapsed_time, run, repeats)


def _time_torch(torch, run, repeats: int) -> float:
    return _time_events(lambda: torch.cuda.Event(enable_timing=True),
                        lambda start, stop: start.elapsed_time(stop), run, repeats)


class PeerUnavailable(Exception):
    """No peer can run here; the message is the note."""


@dataclass
class Peer:
    """A peer ready to run: inputs on the GPU, its call, and the settings it runs under."""

    choice: PeerChoice
    call: Callable[[], object]
    settings: Callable[[], contextlib.AbstractContextManager]
    time_calls: Callable[[Callable[[], object], int], float]
    to_numpy: Callable[[object], np.ndarray]

    def time(self, repeats: int = 5) -> float:
        with self.settings():
            return self.time_calls(self.call, repeats)

    def output(self) -> np.ndarray:
        """The peer's answer as fp32 numpy (to check that it computes what we compute)."""
        with self.settings():
            return self.to_numpy(self.call())


@contextlib.contextmanager
def _torch_settings(torch, choice: PeerChoice) -> Iterator[None]:
    """TF32 off for the call (restored after); the SDPA backend pinned for attention."""
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    saved = matmul.allow_tf32, cudnn.allow_tf32
    matmul.allow_tf32 = cudnn.allow_tf32 = False
    try:
        with contextlib.ExitStack() as stack:
            if choice.sdpa_backend is not None:
                from torch.nn.attention import SDPBackend, sdpa_kernel

                stack.enter_context(sdpa_kernel(getattr(SDPBackend, choice.sdpa_backend)))
            yield
    finally:
        matmul.allow_tf32, cudnn.allow_tf32 = saved


def _torch_tensor(torch, array: np.ndarray, choice: PeerChoice):
    if choice.dtype == "bf16":
        if array.dtype != np.uint16:
            raise PeerUnavailable("bf16 peer needs bf16 inputs (uint16 bit patterns)")
        return torch.from_numpy(bf16_bits_view(array)).view(torch.bfloat16).cuda()
    return torch.from_numpy(np.ascontiguousarray(array, np.float32)).cuda()


def prepare_peer(problem: Problem, inputs: dict[str, np.ndarray]) -> Peer:
    """Upload the inputs once and return the peer; PeerUnavailable says why there is none."""
    torch, cupy = _torch_cuda(), _cupy()
    choice = choose_peer(problem, have_torch=torch is not None, have_cupy=cupy is not None,
                         cupy_tf32=os.environ.get("CUPY_TF32", "0") == "1")
    if isinstance(choice, str):
        raise PeerUnavailable(choice)
    if choice.library == "cupy":
        a, b = cupy.asarray(inputs["A"]), cupy.asarray(inputs["B"])
        return Peer(choice, lambda: a @ b, contextlib.nullcontext,
                    lambda run, repeats: _time_cupy(cupy, run, repeats),
                    lambda out: cupy.asnumpy(out).astype(np.float32))
    assert torch is not None

    def to_numpy(out) -> np.ndarray:
        return out.float().squeeze(0).cpu().numpy()

    if choice.op == "matmul":
        a, b = (_torch_tensor(torch, inputs[key], choice) for key in ("A", "B"))
        call: Callable[[], object] = lambda: a @ b  # noqa: E731
    else:
        # (heads, N, d) → (batch 1, heads, N, d); the default scale is 1/√d, like ours.
        q, k, v = (_torch_tensor(torch, inputs[key], choice)[None] for key in ("Q", "K", "V"))
        sdpa = torch.nn.functional.scaled_dot_product_attention
        call = lambda: sdpa(q, k, v, is_causal=problem.causal)  # noqa: E731
    return Peer(choice, call, lambda: _torch_settings(torch, choice),
                lambda run, repeats: _time_torch(torch, run, repeats), to_numpy)


def _failure_note(error: Exception) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"peer timing failed: {type(error).__name__}: {first}"


def peer_time(problem: Problem, inputs: dict[str, np.ndarray], repeats: int = 5) -> PeerTime:
    """Time the like-for-like library call (see the module's notes) on GPU 0.

    A peer that fails (out of memory, a CUDA error inside cupy or torch) yields a note, not an
    exception: the comparison is optional, our own result still stands.
    """
    try:
        peer = prepare_peer(problem, inputs)
    except PeerUnavailable as why:
        return PeerTime("peer", None, str(why))
    except Exception as error:  # noqa: BLE001 (cupy and torch raise their own error types)
        return PeerTime("peer", None, _failure_note(error))
    try:
        return PeerTime(peer.choice.name, peer.time(repeats))
    except Exception as error:  # noqa: BLE001
        return PeerTime(peer.choice.name, None, _failure_note(error))
