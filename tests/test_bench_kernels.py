"""The kernel benchmark's logic without a GPU: outputs are checked before anything is timed (a
planted wrong kernel fails), peers are chosen like for like and labelled, and the event timing
loop times many calls per pair of events. No speed is asserted."""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from microgpt_tui.kernels import catalog, execute, peers, runtime
from microgpt_tui.kernels.catalog import KernelSpec, Problem
from microgpt_tui.kernels.sim import make_inputs, reference, to_bf16
from microgpt_tui.tui.bench import kernels as bench

N, D, HEADS = 32, 16, 2  # tiny: the numpy references take milliseconds


def _add_bf16_kernels(monkeypatch) -> None:
    """Stand-ins for the tensor-core kernels (the selection logic needs only their specs)."""
    for name, family in (("matmul_tc", "matmul"), ("flash_attention_tc", "attention")):
        if name not in catalog.KERNELS:
            monkeypatch.setitem(catalog.KERNELS, name, KernelSpec(
                name, f"{name}.cu", family, (name,), {}, "stand-in", dtype="bf16"))


# -- the output check ----------------------------------------------------------------------


@pytest.mark.parametrize("kernel", ["matmul_tiled", "flash_attention_fwd"])
def test_check_output_passes_the_reference_and_fails_a_planted_error(kernel):
    problem = Problem(kernel, N, D, heads=HEADS)
    inputs = make_inputs(problem)
    right = reference(problem, inputs).astype(np.float32)
    check = execute.check_output(problem, inputs, right)
    assert check.ok and "output checked" in check.describe()
    wrong = right.copy()
    wrong.flat[7] += 0.5
    check = execute.check_output(problem, inputs, wrong)
    assert not check.ok
    assert check.max_error == pytest.approx(0.5, rel=1e-3)
    assert check.describe().startswith("wrong output (max error 5.0e-01 > tolerance")
    nan = right.copy()
    nan.flat[0] = np.nan
    assert not execute.check_output(problem, inputs, nan).ok
    assert not execute.check_output(problem, inputs, right[:-1]).ok  # wrong shape


def test_bf16_attention_tolerance_allows_bf16_probabilities_only(monkeypatch):
    _add_bf16_kernels(monkeypatch)
    problem = Problem("flash_attention_tc", N, D, heads=HEADS)
    inputs = make_inputs(problem)
    assert inputs["Q"].dtype == np.uint16
    expected = reference(problem, inputs)
    fp32 = execute.tolerance_for(Problem("flash_attention_fwd", N, D, heads=HEADS), expected)
    bf16 = execute.tolerance_for(problem, expected, inputs)
    v_max = float(np.max(np.abs(execute.as_float(inputs["V"]))))
    assert bf16 == pytest.approx(fp32 + 2.0**-8 * max(1.0, v_max))
    # P rounded to bf16 before P·V, as a tensor-core kernel does, stays within it
    q, k, v = (execute.as_float(inputs[key]).astype(np.float64) for key in ("Q", "K", "V"))
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(D)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p_bf16 = execute.as_float(to_bf16(p.astype(np.float32))).astype(np.float64)
    out = (p_bf16 @ v) / p.sum(-1, keepdims=True)
    assert execute.check_output(problem, inputs, out.astype(np.float32), expected).ok
    # matmul in bf16 accumulates in fp32: the fp32 bound
    matmul = Problem("matmul_tc", N)
    m_inputs = make_inputs(matmul)
    m_expected = reference(matmul, m_inputs)
    assert execute.tolerance_for(matmul, m_expected, m_inputs) == execute.tolerance_for(
        Problem("matmul_tiled", N), m_expected)


# -- the bench on a fake GPU ---------------------------------------------------------------


class _FakePeer:
    def __init__(self, problem, inputs, seconds=2.0, wrong=False):
        self.choice = peers.choose_peer(problem, have_torch=True, have_cupy=True)
        self.answer = reference(problem, inputs).astype(np.float32) + (1.0 if wrong else 0.0)
        self.seconds = seconds
        self.timed = 0

    def output(self):
        return self.answer

    def time(self, repeats):
        self.timed += 1
        return self.seconds


@pytest.fixture
def fake_gpu(monkeypatch):
    """GPU 0 is 'available'; run_on_gpu returns the reference (or a planted wrong answer) with
    a fake time; every call is recorded."""
    info = runtime.DeviceInfo("Fake H200", 90, 132, 232448)
    monkeypatch.setattr(runtime, "device_status",
                        lambda: runtime.DeviceStatus(True, "Fake H200 (sm_90, 132 SMs)", info))
    state = SimpleNamespace(wrong=set(), broken=set(), calls=[], peers={}, peer_wrong=False,
                            seconds={"matmul_tiled": 4.0, "matmul_register_blocked": 1.0,
                                     "flash_attention_fwd": 1.0, "attention_naive": 5.0})

    def run_on_gpu(problem, inputs, *, defines=None, repeats=5, want_trace=True):
        state.calls.append((problem.kernel, repeats, want_trace))
        if problem.kernel in state.broken:
            raise runtime.CudaError("cuLaunchKernel", "CUDA_ERROR_LAUNCH_FAILED")
        output = reference(problem, inputs).astype(np.float32)
        if problem.kernel in state.wrong:
            output[0, 0] += 3.0  # planted: one element off
        return SimpleNamespace(output=output, seconds=state.seconds.get(problem.kernel, 1.0),
                               notes=[])

    def prepare_peer(problem, inputs):
        peer = _FakePeer(problem, inputs, wrong=state.peer_wrong)
        state.peers[problem.kernel] = peer
        return peer

    monkeypatch.setattr(runtime, "run_on_gpu", run_on_gpu)
    monkeypatch.setattr(peers, "prepare_peer", prepare_peer)
    return state


def _run(plans, rounds=2):
    return bench.gpu_comparisons(rounds, n=N, d=D, heads=HEADS, plans=plans)


def _timed(state, kernel):
    return [call for call in state.calls if call[0] == kernel and call[1] == bench.KERNEL_REPEATS]


def test_right_kernels_are_checked_then_timed(fake_gpu):
    results, notes = _run(bench.PLANS[:3])
    assert notes == []
    tiled, blocked, flash = results
    assert not isinstance(tiled, bench.FailedComparison)
    assert tiled.speedup == pytest.approx(0.5) and tiled.met  # 2 s / 4 s ≥ 20%
    assert blocked.speedup == pytest.approx(2.0) and blocked.met
    assert flash.speedup == pytest.approx(5.0) and flash.met  # naive 5 s / flash 1 s ≥ 3×
    # each kernel checked once (one repeat, no trace) before its timed samples
    first_timed = fake_gpu.calls.index(("matmul_tiled", bench.KERNEL_REPEATS, False))
    assert fake_gpu.calls[:first_timed].count(("matmul_tiled", 1, False)) == 1
    assert len(_timed(fake_gpu, "matmul_tiled")) == 3  # one warm-up + 2 rounds
    assert "cuBLAS fp32, TF32 off" in tiled.peer and "n=32" in tiled.peer
    assert "fp32" in flash.label and f"N={N} d={D} b·h={HEADS}" in flash.label


def test_a_planted_wrong_kernel_fails_loudly_and_is_not_timed(fake_gpu):
    fake_gpu.wrong.add("matmul_register_blocked")
    results, _ = _run(bench.PLANS[:2])
    tiled, blocked = results
    assert tiled.met  # the right one still passes
    assert isinstance(blocked, bench.FailedComparison)
    assert blocked.met is False and math.isnan(blocked.speedup)
    assert _timed(fake_gpu, "matmul_register_blocked") == []
    line = blocked.line("kernels")
    assert "NOT met: wrong output (max error 3.0e+00 > tolerance" in line
    assert "not timed" in line
    record = blocked.record("kernels")
    assert record["met"] is False and record["ours_median"] is None
    assert record["error"].startswith("wrong output")


def test_a_wrong_naive_kernel_fails_the_comparison_against_it(fake_gpu):
    fake_gpu.wrong.add("attention_naive")
    (flash,), _ = _run(bench.PLANS[2:3])
    assert isinstance(flash, bench.FailedComparison)
    assert "peer wrong output" in flash.reason
    assert _timed(fake_gpu, "flash_attention_fwd") == []


def test_a_failing_kernel_and_a_wrong_peer_fail_their_comparisons(fake_gpu):
    fake_gpu.broken.add("matmul_tiled")
    fake_gpu.peer_wrong = True
    tiled, blocked, flash_vs_sdpa = _run(bench.PLANS[:2] + bench.PLANS[3:4])[0]
    assert isinstance(tiled, bench.FailedComparison)
    assert "run failed" in tiled.reason and "CUDA_ERROR_LAUNCH_FAILED" in tiled.reason
    for comparison in (blocked, flash_vs_sdpa):
        assert isinstance(comparison, bench.FailedComparison)
        assert comparison.reason.startswith("peer wrong output")
    assert all(peer.timed == 0 for peer in fake_gpu.peers.values())


def test_kernels_not_in_the_catalog_are_skipped_with_a_note(fake_gpu, monkeypatch):
    for name in ("matmul_tc", "flash_attention_tc"):
        monkeypatch.delitem(catalog.KERNELS, name, raising=False)
    results, notes = _run(bench.PLANS[4:])
    assert results == []
    assert notes == [
        "flash_attention_tc vs peer skipped: flash_attention_tc is not in the catalog yet",
        "matmul_tc vs peer skipped: matmul_tc is not in the catalog yet",
    ]


def test_bf16_kernels_meet_bf16_peers(fake_gpu, monkeypatch):
    _add_bf16_kernels(monkeypatch)
    flash_tc, matmul_tc = _run(bench.PLANS[4:])[0]
    assert "bf16" in flash_tc.label and "SDPA flash bf16" in flash_tc.peer
    assert "bf16" in matmul_tc.label and "cuBLAS bf16" in matmul_tc.peer
    assert flash_tc.goal.min_speedup == 0.5 and matmul_tc.goal.min_speedup == 0.5


def test_no_gpu_skips_the_comparisons_with_the_reason():
    if runtime.device_status().available:
        pytest.skip("a GPU is present")
    results, notes = bench.gpu_comparisons(1)
    assert results == [] and notes[0].startswith("GPU comparisons skipped: SIMULATED")


def test_the_issue_goals_and_shapes():
    goals = {(plan.kernel, plan.against): plan.goal for plan in bench.PLANS}
    assert goals[("matmul_tiled", "peer")].min_speedup == 0.20
    assert goals[("matmul_register_blocked", "peer")].min_speedup == 0.60
    assert goals[("flash_attention_fwd", "attention_naive")].min_speedup == 3.0
    assert goals[("flash_attention_tc", "peer")].min_speedup == 0.5
    assert goals[("matmul_tc", "peer")].min_speedup == 0.5
    assert (bench.GPU_N, bench.ATTENTION_D, bench.ATTENTION_HEADS) == (4096, 64, 16)


# -- like-for-like peers -------------------------------------------------------------------


def test_peer_choice_is_like_for_like_and_labelled(monkeypatch):
    _add_bf16_kernels(monkeypatch)
    choose = peers.choose_peer
    mm = Problem("matmul_tiled", 4096)
    choice = choose(mm, have_torch=True, have_cupy=True)
    assert (choice.library, choice.dtype, choice.backend) == ("cupy", "fp32", "cuBLAS")
    assert choice.name == "cuBLAS fp32, TF32 off (cupy) n=4096"
    choice = choose(mm, have_torch=True, have_cupy=True, cupy_tf32=True)  # CUPY_TF32=1
    assert choice.library == "torch" and "TF32 off (torch.matmul)" in choice.name
    assert "install cupy" in choose(mm, have_torch=False, have_cupy=False)

    tc = Problem("matmul_tc", 4096)
    choice = choose(tc, have_torch=True, have_cupy=True)  # cupy has no bf16
    assert (choice.library, choice.dtype) == ("torch", "bf16")
    assert choice.name == "cuBLAS bf16 (torch.matmul) n=4096"
    assert "install torch" in choose(tc, have_torch=False, have_cupy=True)

    flash = Problem("flash_attention_fwd", 4096, 64, heads=16)
    choice = choose(flash, have_torch=True, have_cupy=True)
    assert (choice.op, choice.dtype, choice.sdpa_backend) == ("sdpa", "fp32", "MATH")
    assert choice.name == "SDPA math fp32, TF32 off (torch) N=4096 d=64 b·h=16"
    causal = replace(flash, causal=True, kernel="flash_attention_tc")
    choice = choose(causal, have_torch=True, have_cupy=False)
    assert (choice.dtype, choice.sdpa_backend) == ("bf16", "FLASH_ATTENTION")
    assert choice.name == "SDPA flash bf16 (torch) N=4096 d=64 b·h=16 causal"
    assert "install torch" in choose(flash, have_torch=False, have_cupy=True)


def test_bf16_bits_are_reinterpreted_not_converted():
    values = np.array([1.0, -2.5, 3.140625, 0.0], np.float32)
    bits = to_bf16(values)
    view = peers.bf16_bits_view(bits)
    assert view.dtype == np.int16 and view.tobytes() == bits.tobytes()


class _Event:
    clock = 0.0  # ms; each run() advances it by the current call's cost

    def __init__(self, **_options):
        self.at = None

    def record(self):
        self.at = _Event.clock

    def synchronize(self):
        pass

    def elapsed_time(self, stop):
        return stop.at - self.at


def test_peer_timing_is_many_calls_per_event_pair_after_a_warm_up():
    calls = []

    def run():
        calls.append(1)
        _Event.clock += 0.5  # 0.5 ms a call

    torch = SimpleNamespace(cuda=SimpleNamespace(Event=_Event))
    seconds = peers._time_torch(torch, run, 3)
    # warm-up 1, sizing sample 1, then 3 samples of 20 ms / 0.5 ms = 40 calls
    assert len(calls) == 1 + 1 + 3 * 40
    assert seconds == pytest.approx(0.5e-3)
    cupy = SimpleNamespace(cuda=SimpleNamespace(
        Event=_Event, get_elapsed_time=lambda start, stop: start.elapsed_time(stop)))
    assert peers._time_cupy(cupy, run, 2) == pytest.approx(0.5e-3)


def test_iterations_for():
    assert peers.iterations_for(0.5e-3) == 40
    assert peers.iterations_for(1.0) == 1  # a slow call: one per sample
    assert peers.iterations_for(1e-9) == peers.MAX_ITERATIONS
    assert peers.iterations_for(0.0) == peers.MAX_ITERATIONS


def test_torch_settings_turn_tf32_off_pin_the_backend_and_restore(monkeypatch):
    chosen = []

    class _Backend:
        MATH, FLASH_ATTENTION = "math", "flash"

    class _Pinned:
        def __init__(self, backend):
            chosen.append(backend)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            chosen.append("released")

    attention = SimpleNamespace(SDPBackend=_Backend, sdpa_kernel=_Pinned)
    monkeypatch.setitem(sys.modules, "torch.nn.attention", attention)
    torch = SimpleNamespace(backends=SimpleNamespace(
        cuda=SimpleNamespace(matmul=SimpleNamespace(allow_tf32=True)),
        cudnn=SimpleNamespace(allow_tf32=True)))
    choice = peers.choose_peer(Problem("flash_attention_fwd", 64), have_torch=True,
                               have_cupy=False)
    with peers._torch_settings(torch, choice):
        assert torch.backends.cuda.matmul.allow_tf32 is False
        assert torch.backends.cudnn.allow_tf32 is False
        assert chosen == ["math"]
    assert chosen == ["math", "released"]
    assert torch.backends.cuda.matmul.allow_tf32 is True  # restored
    assert torch.backends.cudnn.allow_tf32 is True


def test_peer_time_without_libraries_is_a_note(monkeypatch):
    monkeypatch.setattr(peers, "_torch_cuda", lambda: None)
    monkeypatch.setattr(peers, "_cupy", lambda: None)
    problem = Problem("matmul_tiled", N)
    found = peers.peer_time(problem, make_inputs(problem))
    assert found.seconds is None and "install cupy" in found.note
