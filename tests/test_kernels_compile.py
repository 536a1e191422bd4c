"""Every CUDA kernel compiles with NVRTC (no GPU needed) and ptxas reports what the code implies.

Each configuration compiles once per session (and the disk cache makes a second compile free);
GPU launches are tested only where a driver and a GPU exist, and skip with the reason otherwise.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from microgpt_tui.kernels import runtime
from microgpt_tui.kernels.catalog import KERNELS, Problem, defines_for, shared_bytes
from microgpt_tui.kernels.runtime import (
    CompileError,
    choose_arch,
    compile_kernel,
    device_status,
    parse_ptxas,
)

nvrtc = pytest.importorskip("cuda.bindings.nvrtc")

CONFIGS = {
    "matmul_naive": Problem("matmul_naive", 64),
    "matmul_tiled": Problem("matmul_tiled", 64),
    "matmul_register_blocked": Problem("matmul_register_blocked", 64),
    "attention_naive": Problem("attention_naive", 64, 64),
    "flash_d64": Problem("flash_attention_fwd", 64, 64),
    "flash_d128": Problem("flash_attention_fwd", 64, 128),
}


@pytest.fixture(scope="session")
def compiled(tmp_path_factory):
    """Each configuration compiled once, plain and traced, into a session-wide cache."""
    cache = tmp_path_factory.mktemp("kernel-cache")
    done = {}

    def get(config: str, trace: bool = False):
        if (config, trace) not in done:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("MICROGPT_TUI_CACHE", str(cache))
                problem = CONFIGS[config]
                done[config, trace] = compile_kernel(
                    problem.kernel, defines_for(problem), trace=trace
                )
        return done[config, trace]

    return get


@pytest.mark.parametrize("config", CONFIGS)
def test_every_entry_compiles_to_cubin_without_spills(compiled, config):
    kernel = compiled(config)
    problem = CONFIGS[config]
    assert kernel.arch == 90 and kernel.cubin[:4] == b"\x7fELF"
    assert ".target sm_90" in kernel.ptx
    assert set(kernel.resources) == set(problem.spec.entries)
    for entry, resources in kernel.resources.items():
        assert 0 < resources.registers <= 255, entry
        assert resources.spills == 0, f"{entry} spills {resources.spills} bytes"
        assert resources.shared_bytes == shared_bytes(entry, defines_for(problem)), entry


def test_tiled_matmul_shared_memory_is_two_tiles(compiled):
    tile = KERNELS["matmul_tiled"].defines["TILE"]
    assert compiled("matmul_tiled").resources["matmul_tiled"].shared_bytes == 2 * tile * tile * 4


def test_flash_shared_memory_holds_q_k_v_tiles_and_scores(compiled):
    res = compiled("flash_d64").resources["flash_attention_fwd"]
    assert res.shared_bytes == ((32 + 2 * 32) * 64 + 32 * 32) * 4
    res128 = compiled("flash_d128").resources["flash_attention_fwd"]
    assert res128.shared_bytes == ((32 + 2 * 16) * 128 + 32 * 16) * 4 <= 48 * 1024


@pytest.mark.parametrize("config", ["matmul_tiled", "flash_d64"])
def test_traced_build_reads_smid_and_globaltimer(compiled, config):
    plain, traced = compiled(config), compiled(config, trace=True)
    assert "%smid" in traced.ptx and "%globaltimer" in traced.ptx
    assert "%smid" not in plain.ptx
    assert "-DMICROGPT_TRACE=1" in traced.options
    assert "atom." not in traced.ptx  # fixed slots, no atomics


def test_tile_size_is_a_compile_time_parameter(compiled):
    kernel = compile_kernel("matmul_tiled", {"TILE": 8})
    assert kernel.resources["matmul_tiled"].shared_bytes == 2 * 8 * 8 * 4


def test_second_compile_comes_from_the_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROGPT_TUI_CACHE", str(tmp_path))
    first = compile_kernel("matmul_naive")
    second = compile_kernel("matmul_naive")
    assert not first.from_cache and second.from_cache
    assert second.cubin == first.cubin and second.resources == first.resources
    files = list((tmp_path / "kernels").glob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["arch"] == 90
    other = compile_kernel("matmul_naive", arch=80)
    assert not other.from_cache and other.arch == 80  # the arch is part of the key


def test_a_damaged_cache_entry_is_recompiled(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROGPT_TUI_CACHE", str(tmp_path))
    compile_kernel("matmul_naive")
    (entry,) = (tmp_path / "kernels").glob("*.json")
    entry.write_text("{not json")
    again = compile_kernel("matmul_naive")
    assert not again.from_cache and again.cubin[:4] == b"\x7fELF"


DAMAGED_ENTRIES = {
    "resources a list": lambda r: r.update(resources=[]),
    "log null": lambda r: r.update(log=None),
    "options not strings": lambda r: r.update(options=[1, 2]),
    "arch a string": lambda r: r.update(arch="90"),
    "arch true": lambda r: r.update(arch=True),
    "resource fields missing": lambda r: r.update(resources={"k": {"registers": 3}}),
    "resource a string": lambda r: r.update(resources={"k": "many"}),
    "cubin not base64": lambda r: r.update(cubin="not base64!"),
    "cubin missing": lambda r: r.pop("cubin"),
    "an unknown field": lambda r: r.update(extra=1),
    "a list, not an object": lambda r: (r.clear(), None),
}


@pytest.fixture
def cache_entry(tmp_path, monkeypatch):
    """A real cache entry for matmul_naive in a fresh cache folder, and its JSON."""
    monkeypatch.setenv("MICROGPT_TUI_CACHE", str(tmp_path))
    compile_kernel("matmul_naive")
    (entry,) = (tmp_path / "kernels").glob("*.json")
    return entry, json.loads(entry.read_text())


@pytest.mark.parametrize("damage", DAMAGED_ENTRIES)
def test_a_damaged_cache_entry_of_any_shape_is_a_miss(cache_entry, damage):
    entry, record = cache_entry
    DAMAGED_ENTRIES[damage](record)
    entry.write_text(json.dumps(record if record else []))
    assert runtime._load_cached(entry) is None


@pytest.mark.parametrize("text", ["", "null", "[]", "{\"cubin\": 1}", "[" * 100_000])
def test_cache_files_that_are_not_entries_are_misses(tmp_path, text):
    entry = tmp_path / "k.json"
    entry.write_text(text)
    assert runtime._load_cached(entry) is None


def test_a_damaged_cache_entry_is_rewritten(cache_entry):
    entry, record = cache_entry
    entry.write_text(json.dumps({**record, "resources": [], "log": None}))
    again = compile_kernel("matmul_naive")
    assert not again.from_cache and isinstance(again.log, str)
    rewritten = json.loads(entry.read_text())
    assert rewritten["resources"] == record["resources"] and isinstance(rewritten["log"], str)
    assert compile_kernel("matmul_naive").from_cache


def test_compile_error_carries_the_log(monkeypatch):
    spec = KERNELS["matmul_naive"]
    monkeypatch.setattr(type(spec), "source_text", lambda self: "this is not CUDA;")
    with pytest.raises(CompileError) as raised:
        compile_kernel("matmul_naive", use_cache=False)
    assert "did not compile" in str(raised.value)
    assert "error" in raised.value.log


def test_parse_ptxas_reads_registers_shared_memory_and_spills():
    log = (
        "ptxas info    : Compiling entry function 'k' for 'sm_90'\n"
        "ptxas info    : Function properties for k\n"
        "ptxas         .     8 bytes stack frame, 12 bytes spill stores, 16 bytes spill loads\n"
        "ptxas info    : Used 40 registers, used 1 barriers, 2048 bytes smem, 380 bytes cmem[0]\n"
    )
    (res,) = parse_ptxas(log).values()
    assert (res.registers, res.shared_bytes, res.stack_bytes) == (40, 2048, 8)
    assert (res.spill_stores, res.spill_loads, res.spills) == (12, 16, 28)


def test_arch_is_clamped_to_what_nvrtc_supports():
    archs = runtime.supported_archs()
    assert 90 in archs and 80 in archs
    assert choose_arch(None) == (90, True)
    assert choose_arch(86) == (86, True)
    assert choose_arch(89) == (89, True)
    newest = archs[-1]
    future = (newest // 10 + 1) * 10
    arch, cubin = choose_arch(future)
    assert arch == newest and not cubin  # a GPU newer than NVRTC gets PTX to JIT


def test_missing_nvrtc_says_how_to_install(monkeypatch):
    def broken():
        raise runtime.NvrtcMissing(runtime.NVRTC_INSTALL_HINT)

    monkeypatch.setattr(runtime, "_nvrtc", broken)
    with pytest.raises(runtime.NvrtcMissing, match=r'pip install "microgpt-tui\[nvrtc\]"'):
        compile_kernel("matmul_naive", use_cache=False, arch=90)


def test_no_driver_is_a_label_not_an_error():
    status = device_status()
    if status.available:
        pytest.skip(f"a GPU is present ({status.label})")
    assert status.label.startswith("SIMULATED — ")
    assert status.info is None


def test_cuda_errors_are_named_with_a_hint():
    error = runtime.CudaError("cuMemAlloc", "CUDA_ERROR_OUT_OF_MEMORY")
    assert str(error) == (
        "cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (out of GPU memory; try a smaller --n)"
    )


def test_kernel_arguments_are_numpy_scalars_of_the_kernel_types():
    problem = Problem("flash_attention_fwd", 100, 64, causal=True)
    buffers = {"Q": 0x1000, "K": 0x2000, "V": 0x3000, "O": 0x4000}
    args = runtime._kernel_args(problem, "flash_attention_fwd", buffers, 0x5000, 4)
    assert [a.dtype for a in args] == [np.dtype(t) for t in
                                       ("u8", "u8", "u8", "u8", "i4", "f4", "i4", "u8", "i4")]
    assert int(args[4]) == 100 and int(args[6]) == 1 and float(args[5]) == pytest.approx(0.125)


C_TYPES = {"int": np.dtype("i4"), "float": np.dtype("f4")}  # anything with * is a pointer


def _c_signature(source: str, entry: str) -> list[np.dtype]:
    """The parameter types of `extern "C" __global__ void entry(...)` as numpy dtypes."""
    import re

    match = re.search(rf"\b{entry}\s*\(([^)]*)\)", source)
    types = []
    for param in match.group(1).split(","):
        words = param.replace("__restrict__", "").replace("const", "").split()
        types.append(np.dtype("u8") if "*" in param else C_TYPES[words[0]])
    return types


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_kernel_arguments_match_every_entry_signature(kernel):
    problem = Problem(kernel, 100, 64, causal=True)
    buffers = dict.fromkeys("ABCQKVOS", 0x1000)
    source = KERNELS[kernel].source_text()
    for entry in KERNELS[kernel].entries:
        args = runtime._kernel_args(problem, entry, buffers, 0x5000, 4)
        assert [a.dtype for a in args] == _c_signature(source, entry), entry


def test_packed_params_point_at_each_argument_bytes():
    import ctypes

    args = [np.uint64(0xDEADBEEF000), np.int32(-7), np.float32(0.125), np.uint64(0)]
    pointers, holders = runtime.pack_params(args)
    assert pointers.dtype.itemsize == ctypes.sizeof(ctypes.c_void_p)
    for address, arg in zip(pointers, args, strict=True):
        assert ctypes.string_at(int(address), arg.nbytes) == arg.tobytes()
    assert len(holders) == len(args)


def test_trace_slot_layout_matches_the_device_struct():
    import ctypes

    from microgpt_tui.kernels.trace import SLOT_DTYPE

    class TraceSlot(ctypes.Structure):  # trace.cuh's struct, field by field
        _fields_ = [("start", ctypes.c_ulonglong), ("end", ctypes.c_ulonglong)] + [
            (name, ctypes.c_uint) for name in ("sm", "block_x", "block_y", "block_z", "step",
                                               "pad")
        ]

    assert SLOT_DTYPE.itemsize == ctypes.sizeof(TraceSlot) == 40
    for name in SLOT_DTYPE.names:
        assert SLOT_DTYPE.fields[name][1] == getattr(TraceSlot, name).offset, name


def test_trace_buffers_decode_with_one_clock_and_skip_unwritten_slots():
    from microgpt_tui.kernels.trace import SLOT_DTYPE, decode_trace_buffers

    first = np.zeros(4, SLOT_DTYPE)  # 2 blocks × 2 steps; block 1 skipped its step 1
    first[0] = (1_000, 1_500, 3, 0, 0, 0, 0, 0)
    first[1] = (1_500, 2_000, 3, 0, 0, 0, 1, 0)
    first[2] = (1_100, 1_900, 5, 1, 0, 0, 0, 0)
    second = np.zeros(1, SLOT_DTYPE)
    second[0] = (2_500, 2_600, 0, 0, 7, 1, 0, 0)
    records = decode_trace_buffers([first, second])
    assert [(r.launch, r.block, r.step, r.sm, r.start_ns, r.end_ns) for r in records] == [
        (0, (0, 0, 0), 0, 3, 0, 500),
        (0, (0, 0, 0), 1, 3, 500, 1_000),
        (0, (1, 0, 0), 0, 5, 100, 900),
        (1, (0, 7, 1), 0, 0, 1_500, 1_600),
    ]
    assert decode_trace_buffers([np.zeros(3, SLOT_DTYPE)]) == []


class _Driver:
    """The driver module's error plumbing with one call stubbed; the enum is the real one."""

    def __init__(self, result):
        from cuda.bindings import driver

        self.CUresult = driver.CUresult
        self.result = result

    def cuGetErrorName(self, result):
        raise RuntimeError("libcuda not loaded")  # what cuda-python does with no driver

    def cuMemAlloc(self, nbytes):
        if not isinstance(nbytes, int):
            raise TypeError("an integer is required")
        return self.result, 0x1000


def test_driver_failures_become_one_line_errors_naming_the_cuda_error():
    from cuda.bindings import driver

    failing = _Driver(driver.CUresult.CUDA_ERROR_OUT_OF_MEMORY)
    with pytest.raises(runtime.CudaError) as caught:
        runtime._call(failing, "cuMemAlloc", 16)
    assert caught.value.name == "CUDA_ERROR_OUT_OF_MEMORY"
    assert "\n" not in str(caught.value) and "out of GPU memory" in str(caught.value)
    with pytest.raises(runtime.KernelError, match="^cuMemAlloc failed: TypeError"):
        runtime._call(failing, "cuMemAlloc", "16")
    assert runtime._call(_Driver(driver.CUresult.CUDA_SUCCESS), "cuMemAlloc", 16) == 0x1000


requires_gpu = pytest.mark.skipif(
    not device_status().available,
    reason=f"no GPU to launch on ({device_status().reason or 'unavailable'}); "
    "the simulator tests cover the algorithms",
)


@requires_gpu
@pytest.mark.parametrize(
    "problem",
    [
        Problem("matmul_naive", 100),
        Problem("matmul_tiled", 100),
        Problem("matmul_register_blocked", 300),
        Problem("attention_naive", 257, 64, causal=True, heads=2),
        Problem("flash_attention_fwd", 257, 64, causal=True, heads=2),
        Problem("flash_attention_fwd", 17, 128),
    ],
    ids=lambda p: p.describe(),
)
def test_gpu_output_matches_numpy_and_trace_has_every_step(problem):
    from microgpt_tui.kernels.sim import make_inputs, max_error, reference, simulate

    inputs = make_inputs(problem)
    run = runtime.run_on_gpu(problem, inputs, repeats=2)
    assert max_error(run.output, reference(problem, inputs)) < 1e-4
    assert run.seconds > 0
    simulated = simulate(problem, inputs)
    gpu_steps = sorted((r.launch, r.block, r.step) for r in run.trace.records)
    sim_steps = sorted((r.launch, r.block, r.step) for r in simulated.trace.records)
    assert gpu_steps == sim_steps
    assert all(r.end_ns >= r.start_ns for r in run.trace.records)


class _FakeEvent:
    """Stands in for a cupy / torch CUDA event: its time is the number of runs so far (ms)."""

    runs = 0

    def __init__(self, **_options) -> None:
        self.at = None
        self.synchronized = 0

    def record(self) -> None:
        self.at = _FakeEvent.runs

    def synchronize(self) -> None:
        self.synchronized += 1

    def elapsed_time(self, stop) -> float:
        return float(stop.at - self.at) * (stop.at + 1)  # grows with each repeat


def test_cupy_and_torch_peers_share_one_event_timing_loop():
    from types import SimpleNamespace

    from microgpt_tui.kernels import peers

    def run():
        _FakeEvent.runs += 1

    cupy = SimpleNamespace(cuda=SimpleNamespace(
        Event=_FakeEvent, get_elapsed_time=lambda start, stop: start.elapsed_time(stop)))
    torch = SimpleNamespace(cuda=SimpleNamespace(Event=_FakeEvent))
    seconds = []
    for time_peer, library in ((peers._time_cupy, cupy), (peers._time_torch, torch)):
        _FakeEvent.runs = 0
        seconds.append(time_peer(library, run, 5))
        assert _FakeEvent.runs == 6  # one warm-up, then the five timed runs
    # runs 2..6 take 3, 4, 5, 6, 7 ms: the median is 5 ms, reported in seconds
    assert seconds == [pytest.approx(5e-3), pytest.approx(5e-3)]
