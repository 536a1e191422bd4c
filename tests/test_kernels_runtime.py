"""The GPU launch path, proven with no GPU: tests/fake_cuda_driver.py stands in for libcuda.

Every kernel of the catalog runs through `run_on_gpu` (real NVRTC compiles, a fake driver):
the calls come in order, every allocation is freed and every module unloaded, the primary
context is retained once per process and never reset, arguments match the C signatures, and
the error paths (out of memory, a crashed kernel, an old driver, no GPU) say what to do.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from microgpt_tui.kernels import runtime
from microgpt_tui.kernels.catalog import KERNELS, Launch, Problem
from microgpt_tui.kernels.trace import SLOT_DTYPE, decode_trace_buffers

pytest.importorskip("cuda.bindings.nvrtc")
import fake_cuda_driver  # noqa: E402 (tests/, on the path through the conftest's rootdir)
from fake_cuda_driver import FakeDriver, install  # noqa: E402

_COMPILED: dict = {}


@pytest.fixture(autouse=True)
def _compile_once(monkeypatch):
    """The conftest gives each test a fresh disk cache: keep compiles for the whole module."""
    real = runtime.compile_kernel

    def compile_kernel(name, defines=None, **options):
        key = (name, tuple(sorted((defines or {}).items())), tuple(sorted(options.items())))
        if key not in _COMPILED:
            _COMPILED[key] = real(name, defines, **options)
        return _COMPILED[key]

    monkeypatch.setattr(runtime, "compile_kernel", compile_kernel)


def small_problem(kernel: str) -> Problem:
    if KERNELS[kernel].family == "matmul":
        return Problem(kernel, 40)
    return Problem(kernel, 40, 64, causal=True, heads=2)


def run(problem: Problem, **options):
    from microgpt_tui.kernels.sim import make_inputs

    return runtime.run_on_gpu(problem, make_inputs(problem), repeats=2, **options)


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_every_kernel_runs_the_whole_launch_path(monkeypatch, kernel):
    fake = install(monkeypatch)
    problem = small_problem(kernel)
    result = run(problem)
    spec = KERNELS[kernel]
    launched = [launch["entry"] for launch in fake.launches]
    # warm-up, one plain calibration iteration, then the traced run (graphs hold the rest)
    assert launched == list(spec.entries) * 3
    assert fake.count("cuDevicePrimaryCtxRetain") == 1 and fake.resets == 0
    assert fake.count("cuDevicePrimaryCtxRelease") == 0
    assert fake.memory == {} and fake.modules == {}  # every allocation freed, modules unloaded
    assert fake.count("cuModuleLoadData") == 2  # plain, then traced
    order = [c for c in fake.calls if c in ("cuDevicePrimaryCtxRetain", "cuMemAlloc",
                                            "cuModuleLoadData", "cuLaunchKernel",
                                            "cuGraphLaunch", "cuMemcpyDtoH", "cuMemFree")]
    assert order[0] == "cuDevicePrimaryCtxRetain" and order[1] == "cuMemAlloc"
    assert order.index("cuModuleLoadData") < order.index("cuLaunchKernel")
    assert order.index("cuGraphLaunch") < order.index("cuMemcpyDtoH")
    assert set(order[-fake.count("cuMemFree"):]) == {"cuMemFree"}
    assert fake.count("cuGraphLaunch") == 1 + 2  # the sizing sample, then 2 repeats
    assert fake.count("cuGraphExecDestroy") == fake.count("cuGraphInstantiate") >= 1
    assert fake.count("cuGraphDestroy") == fake.count("cuStreamEndCapture")
    (executable,) = [args for name, args in fake.log if name == "cuGraphLaunch"][-1]
    assert executable == ("exec", result.iterations * len(spec.entries))  # launches captured
    assert fake.count("cuStreamCreate") == fake.count("cuStreamDestroy") == 1
    assert fake.count("cuEventCreate") == fake.count("cuEventDestroy") == 2
    assert result.output.shape == runtime.output_shape(problem)
    assert result.trace is not None and not result.trace.simulated
    for launch in fake.launches:
        assert launch["args"].get("n", problem.n) == problem.n


def test_the_context_is_retained_once_across_runs_and_never_released(monkeypatch):
    fake = install(monkeypatch)
    problem = small_problem("matmul_tiled")
    run(problem, want_trace=False)
    run(problem, want_trace=False)
    assert fake.count("cuDevicePrimaryCtxRetain") == 1 and fake.retained == 1
    assert fake.count("cuCtxSetCurrent") == 2 and fake.resets == 0
    assert fake.memory == {} and fake.modules == {}


def test_timing_divides_a_graph_of_many_iterations(monkeypatch):
    fake = install(monkeypatch, FakeDriver(event_ms=0.01))  # 10 µs per event pair
    result = run(small_problem("matmul_naive"), want_trace=False)
    # 10 µs for one plain iteration → 200 iterations make 2 ms; each sample is 10 µs / 200
    assert result.iterations == runtime.iterations_for(1e-5 / 200) == runtime.MAX_GRAPH_ITERATIONS
    assert result.seconds == pytest.approx(1e-5 / result.iterations)
    assert fake.count("cuStreamBeginCapture") == fake.count("cuGraphInstantiate") == 2


def test_iterations_make_a_sample_last_two_milliseconds():
    assert runtime.iterations_for(1e-3) == 2
    assert runtime.iterations_for(1.0) == 1
    assert runtime.iterations_for(1e-9) == runtime.MAX_GRAPH_ITERATIONS


def test_out_of_memory_frees_what_was_allocated(monkeypatch):
    fake = install(monkeypatch)
    fake.fail["cuMemAlloc"] = "CUDA_ERROR_OUT_OF_MEMORY"
    with pytest.raises(runtime.CudaError, match="out of GPU memory"):
        run(small_problem("matmul_tiled"))
    assert fake.memory == {} and fake.resets == 0
    del fake.fail["cuMemAlloc"]
    run(small_problem("matmul_tiled"), want_trace=False)  # not sticky: the next run works


def test_a_crashed_kernel_makes_every_later_run_say_restart(monkeypatch):
    fake = install(monkeypatch)
    fake.fail["cuCtxSynchronize"] = "CUDA_ERROR_ILLEGAL_ADDRESS"
    with pytest.raises(runtime.CudaError, match="restart microgpt-tui") as crashed:
        run(small_problem("matmul_tiled"))
    assert "CUDA_ERROR_ILLEGAL_ADDRESS" in str(crashed.value) and "\n" not in str(crashed.value)
    assert fake.memory == {} and fake.modules == {} and fake.resets == 0
    del fake.fail["cuCtxSynchronize"]
    launches = len(fake.launches)
    with pytest.raises(runtime.ContextPoisoned, match=r"^the GPU is unusable after an earlier "
                       r"CUDA_ERROR_ILLEGAL_ADDRESS in cuCtxSynchronize; restart microgpt-tui"):
        run(small_problem("matmul_tiled"))
    assert len(fake.launches) == launches and fake.resets == 0


def test_an_old_driver_says_what_to_upgrade(monkeypatch):
    install(monkeypatch, FakeDriver(version=12040))
    status = runtime.device_status()
    assert not status.available and status.label == "SIMULATED — NVIDIA driver too old"
    assert status.reason == (
        "the NVIDIA driver supports CUDA 12.4; the kernels need a driver for CUDA 13.0 or newer "
        "(cuda-python 13, NVRTC 13): upgrade the NVIDIA driver to R580 or newer")
    with pytest.raises(runtime.NoDevice, match="CUDA 12.4.*R580"):
        run(small_problem("matmul_naive"))


def test_no_gpu_is_no_device(monkeypatch):
    install(monkeypatch, FakeDriver(device_count=0))
    assert runtime.device_status().reason == "no GPU"
    with pytest.raises(runtime.NoDevice, match="no GPU"):
        run(small_problem("matmul_naive"))


def test_ptx_fallback_newer_than_the_driver_is_refused():
    runtime.check_ptx_fallback(13050, (13, 5), 130)
    with pytest.raises(runtime.KernelError) as refused:
        runtime.check_ptx_fallback(13000, (13, 5), 130, ".version 9.5\n.target sm_121\n")
    assert str(refused.value) == (
        "NVRTC 13.5 cannot compile sm_130 code, so the kernels would load as PTX ISA 9.5 for the "
        "driver to compile; that needs a driver for CUDA 13.5 or newer, and this one supports "
        "CUDA 13.0: upgrade the NVIDIA driver, or install an nvidia-cuda-nvrtc that knows sm_130")


def test_a_gpu_newer_than_nvrtc_on_an_old_enough_driver_is_refused_before_launch(monkeypatch):
    newest = runtime.supported_archs()[-1]
    fake = install(monkeypatch, FakeDriver(arch=(newest // 10 + 1) * 10, version=13000))
    major, minor = runtime.nvrtc_version()
    if 1000 * major + 10 * minor <= 13000:
        pytest.skip("this NVRTC's PTX loads on a CUDA 13.0 driver")
    with pytest.raises(runtime.KernelError, match="upgrade the NVIDIA driver"):
        run(small_problem("matmul_naive"))
    assert fake.count("cuModuleLoadData") == 0


def test_dynamic_shared_memory_opts_in_above_48_kib(monkeypatch):
    fake = install(monkeypatch)
    big = Launch("matmul_tiled", (1, 1, 1), (16, 16, 1), 1, 100 * 1024, 96 * 1024)
    monkeypatch.setattr(runtime, "plan", lambda problem, defines=None: [big])
    run(small_problem("matmul_tiled"), want_trace=False)
    assert ("cuFuncSetAttribute", ("matmul_tiled", 96 * 1024)) in fake.log
    assert {launch["shared"] for launch in fake.launches} == {96 * 1024}


def test_shared_memory_is_checked_against_the_opt_in_limit(monkeypatch):
    install(monkeypatch)
    too_big = Launch("matmul_tiled", (1, 1, 1), (16, 16, 1), 1, 228 * 1024, 228 * 1024)
    monkeypatch.setattr(runtime, "plan", lambda problem, defines=None: [too_big])
    with pytest.raises(runtime.ProblemError, match="Fake H200 allows 232,448"):
        run(small_problem("matmul_tiled"))


def test_a_packing_bug_fails_against_the_c_signature(monkeypatch):
    install(monkeypatch)
    real = runtime._kernel_args
    monkeypatch.setattr(runtime, "_kernel_args", lambda *a: real(*a)[:-1])  # one argument short
    with pytest.raises(fake_cuda_driver.FakeError, match="C signature has"):
        run(small_problem("matmul_tiled"), want_trace=False)
    monkeypatch.setattr(runtime, "_kernel_args",
                        lambda *a: [np.float32(x) if x.dtype == np.int32 else x for x in real(*a)])
    with pytest.raises(fake_cuda_driver.FakeError, match="packed as float32, C type is int32"):
        run(small_problem("matmul_tiled"), want_trace=False)


def _write_like_c(buffer, data: bytes) -> None:
    """Write through the buffer's address, as NVRTC does through the `char*` it is given."""
    import ctypes

    if isinstance(buffer, bytes):  # the binding hands C the bytes object's own storage
        address = ctypes.cast(ctypes.c_char_p(buffer), ctypes.c_void_p).value
    else:
        address = ctypes.addressof((ctypes.c_char * len(buffer)).from_buffer(buffer))
    ctypes.memmove(address, data, len(data))


class _EmptyLogNvrtc:
    """NVRTC's log calls for an empty log: size 1, and the NUL terminator written."""

    class nvrtcResult:  # noqa: N801 (the binding's name)
        NVRTC_SUCCESS = 0

    @staticmethod
    def nvrtcGetProgramLogSize(program):
        return 0, 1

    @staticmethod
    def nvrtcGetProgramLog(program, buffer):
        _write_like_c(buffer, b"\0")
        return (0,)


def test_an_empty_log_does_not_corrupt_the_interned_space():
    nvrtc = _EmptyLogNvrtc
    text = runtime._program_text(nvrtc, None, nvrtc.nvrtcGetProgramLogSize,
                                 nvrtc.nvrtcGetProgramLog)
    assert text == ""
    assert bytes([32])[0] == 32 and (b"x" * 0 + b" ")[0] == 32  # the shared 1-byte b" "


def test_trace_times_come_from_cycles_placed_by_one_timer_per_block():
    slots = np.zeros(4, SLOT_DTYPE)  # 2 blocks × 2 steps on two SMs with unrelated clocks
    slots[0] = (1_000, 3_000, 5_000_000, 3, 0, 0, 0, 0, 0)  # step 0 ends at t = 5 ms
    slots[1] = (3_000, 5_000, 0, 3, 0, 0, 0, 1, 0)
    slots[2] = (90_000, 91_000, 5_000_500, 7, 1, 0, 0, 0, 0)
    slots[3] = (91_000, 93_000, 0, 7, 1, 0, 0, 1, 0)
    records = decode_trace_buffers([slots], clock_khz=2_000_000)  # 2 GHz: 2 cycles per ns
    assert [(r.block, r.step, r.sm, r.start_ns, r.end_ns) for r in records] == [
        ((0, 0, 0), 0, 3, 0, 1_000),
        ((0, 0, 0), 1, 3, 1_000, 2_000),
        ((1, 0, 0), 0, 7, 1_000, 1_500),
        ((1, 0, 0), 1, 7, 1_500, 2_500),
    ]


def test_trace_slot_is_48_bytes_in_both_languages():
    import re
    from importlib import resources

    header = resources.files("microgpt_tui.kernels").joinpath("trace.cuh").read_text()
    struct = re.search(r"struct TraceSlot \{(.*?)\};", header, re.S).group(1)
    fields = re.findall(r"unsigned (long long|int) (\w+);", struct)
    assert [name for _, name in fields] == list(SLOT_DTYPE.names)
    sizes = [8 if kind == "long long" else 4 for kind, _ in fields]
    assert sizes == [SLOT_DTYPE.fields[n][0].itemsize for n in SLOT_DTYPE.names]
    assert SLOT_DTYPE.itemsize == sum(sizes) == 48


# ---------------------------------------------------------------------------------------------
# kernels doctor


def test_doctor_without_a_driver_says_simulated(monkeypatch):
    from microgpt_tui.kernels import doctor

    monkeypatch.setattr(runtime, "_driver_module", _no_libcuda)
    monkeypatch.setattr(runtime, "device_status",
                        functools.cache(runtime.device_status.__wrapped__))
    found = doctor.diagnose()
    assert found.driver == "no driver" and found.device is None and not found.gpu
    assert found.ok and found.code == "CUBIN sm_90"
    assert [k.kernel for k in found.kernels] == list(KERNELS) and all(k.ok for k in found.kernels)
    assert found.verdict.startswith("SIMULATED: kernels compile (CUBIN sm_90)")
    assert "\n" not in found.verdict


def _no_libcuda():
    raise OSError('"cuda" is an NVIDIA driver library and can only be found via system search')


def test_doctor_with_a_gpu_reports_the_device_and_is_ready(monkeypatch):
    from microgpt_tui.kernels import doctor

    install(monkeypatch)
    found = doctor.diagnose()
    assert found.driver == "CUDA 13.0" and found.gpu and found.ok
    assert found.device == {"name": "Fake H200", "arch": "sm_90", "sm_count": 132,
                            "max_shared_per_block": 48 * 1024, "max_shared_optin": 227 * 1024,
                            "clock_mhz": 1980}
    assert found.verdict == (f"READY: {len(KERNELS)} kernels compile for CUBIN sm_90 and run on "
                             "Fake H200")
    text = doctor.diagnosis_text(found)
    assert "device  Fake H200 (sm_90, 132 SMs, 1980 MHz)" in text and "227 KiB opted in" in text


def test_doctor_with_an_old_driver_is_not_ready(monkeypatch):
    from microgpt_tui.kernels import doctor

    install(monkeypatch, FakeDriver(version=12080))
    found = doctor.diagnose(compile_kernels=False)
    assert not found.ok and found.driver == "CUDA 12.8 (too old: need 13.0+, R580+)"
    assert found.verdict.startswith("NOT READY: the NVIDIA driver supports CUDA 12.8")


def test_doctor_cli_json_and_gpu_check_without_a_gpu(monkeypatch, capsys):
    import json

    from microgpt_tui.tui.cli.main import main

    monkeypatch.setattr(runtime, "_driver_module", _no_libcuda)
    monkeypatch.setattr(runtime, "device_status",
                        functools.cache(runtime.device_status.__wrapped__))
    assert main(["kernels", "doctor", "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    record = json.loads(line)["doctor"]
    assert record["driver"] == "no driver" and record["ok"] and not record["gpu"]
    assert {k["kernel"] for k in record["kernels"]} == set(KERNELS)
    assert main(["kernels", "doctor", "--gpu-check"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "microgpt-tui: error: --gpu-check needs a GPU: no CUDA driver\n"


def test_gpu_check_catches_a_gpu_that_computes_nothing(monkeypatch):
    from microgpt_tui.kernels import doctor

    install(monkeypatch)  # the fake's kernels never write their output or trace
    monkeypatch.setattr(doctor, "check_problems", lambda: [Problem("matmul_tiled", 33)])
    (checked,) = doctor.gpu_check()
    assert checked.problem == "matmul_tiled n=33" and not checked.ok
    assert checked.max_error > checked.tolerance and checked.trace_ok is False


def test_doctor_imports_no_textual():
    import subprocess
    import sys

    code = ("import sys, microgpt_tui.kernels.doctor, microgpt_tui.tui.cli.kernels_cmd\n"
            "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_on_a_hopper_gpu_flash_gets_the_tiles_its_shared_memory_allows(monkeypatch):
    """run_on_gpu sizes the flash tiles from the device's limits (kernels/budget.py), not the
    48 KiB defaults: on the fake H200 the block opts in above 48 KiB."""
    from microgpt_tui.kernels.budget import HOPPER
    from microgpt_tui.kernels.catalog import defines_for, plan

    fake = install(monkeypatch)
    problem = Problem("flash_attention_fwd", 64, 64)
    assert runtime.shared_limits(runtime.device_status().info) == HOPPER
    result = run(problem, want_trace=False)
    hopper = defines_for(problem, limits=HOPPER)
    assert hopper != defines_for(problem)  # the budget really chose other tiles
    dynamic = plan(problem, hopper)[0].dynamic_shared_bytes
    assert dynamic > 48 * 1024
    assert {launch["shared"] for launch in fake.launches} == {dynamic}
    assert ("cuFuncSetAttribute", ("flash_attention_fwd", dynamic)) in fake.log
    assert result.output.shape == (1, 64, 64)
