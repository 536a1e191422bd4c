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
    "flash_tc_d64": Problem("flash_attention_tc", 64, 64),
    "flash_tc_d128": Problem("flash_attention_tc", 64, 128),
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


def test_flash_shared_memory_is_all_dynamic_and_sized_by_the_catalog(compiled):
    """ptxas sees no static shared memory in the flash kernels: their tiles are `extern
    __shared__`, sized at launch (Launch.dynamic_shared_bytes) from the kernel's layout."""
    from microgpt_tui.kernels.catalog import plan

    for config, entry in (("flash_d64", "flash_attention_fwd"),
                          ("flash_d128", "flash_attention_fwd"),
                          ("flash_tc_d64", "flash_attention_tc")):
        assert compiled(config).resources[entry].shared_bytes == 0
        (launch,) = plan(CONFIGS[config])
        assert launch.shared_bytes == launch.dynamic_shared_bytes <= 48 * 1024
    (d64,) = plan(CONFIGS["flash_d64"])  # BR 64, BC 32: V, Qᵀ, K (odd stride), P (BC + 1)
    assert d64.dynamic_shared_bytes == (32 * 64 + 64 * 64 + 32 * 65 + 64 * 33) * 4


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
        _fields_ = [(name, ctypes.c_ulonglong) for name in ("start", "end", "timer")] + [
            (name, ctypes.c_uint) for name in ("sm", "block_x", "block_y", "block_z", "step",
                                               "pad")
        ]

    assert SLOT_DTYPE.itemsize == ctypes.sizeof(TraceSlot) == 48
    for name in SLOT_DTYPE.names:
        assert SLOT_DTYPE.fields[name][1] == getattr(TraceSlot, name).offset, name


def test_trace_buffers_decode_with_one_clock_and_skip_unwritten_slots():
    from microgpt_tui.kernels.trace import SLOT_DTYPE, decode_trace_buffers

    first = np.zeros(4, SLOT_DTYPE)  # 2 blocks × 2 steps; block 1 skipped its step 1
    first[0] = (1_000, 1_500, 10_500, 3, 0, 0, 0, 0, 0)  # cycles at 1 GHz; timer at step 0
    first[1] = (1_500, 2_000, 0, 3, 0, 0, 0, 1, 0)
    first[2] = (1_100, 1_900, 10_900, 5, 1, 0, 0, 0, 0)
    second = np.zeros(1, SLOT_DTYPE)
    second[0] = (2_500, 2_600, 11_600, 0, 0, 7, 1, 0, 0)
    records = decode_trace_buffers([first, second], clock_khz=1_000_000)
    assert [(r.launch, r.block, r.step, r.sm, r.start_ns, r.end_ns) for r in records] == [
        (0, (0, 0, 0), 0, 3, 0, 500),
        (0, (0, 0, 0), 1, 3, 500, 1_000),
        (0, (1, 0, 0), 0, 5, 100, 900),
        (1, (0, 7, 1), 0, 0, 1_500, 1_600),
    ]
    assert decode_trace_buffers([np.zeros(3, SLOT_DTYPE)], clock_khz=1_000_000) == []


@pytest.mark.parametrize("config", ["matmul_tiled", "flash_d64"])
def test_traced_build_times_steps_in_cycles_and_blocks_by_globaltimer(compiled, config):
    traced = compiled(config, trace=True)
    assert "%clock64" in traced.ptx and "%globaltimer" in traced.ptx
    assert "%clock64" not in compiled(config).ptx


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



# The peers' event timing loop (many calls per event pair) is tested in test_bench_kernels.py.


# -- matmul kernels (issue 17): compile figures, shared-load ratios, tensor cores -------------

MATMUL_KERNELS = ["matmul_naive", "matmul_tiled", "matmul_register_blocked", "matmul_tc"]


@pytest.fixture(scope="session")
def matmul_compiled(tmp_path_factory):
    """Each matmul kernel compiled once (sm_90, its default defines) into a session cache."""
    cache = tmp_path_factory.mktemp("matmul-cache")
    done = {}

    def get(kernel: str, arch: int | None = None):
        if (kernel, arch) not in done:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("MICROGPT_TUI_CACHE", str(cache))
                done[kernel, arch] = compile_kernel(kernel, defines_for(Problem(kernel, 64)),
                                                    arch=arch)
        return done[kernel, arch]

    return get


@pytest.mark.parametrize("kernel", MATMUL_KERNELS)
def test_matmul_compile_figures_agree_with_the_catalog(matmul_compiled, kernel):
    """ptxas (sm_90): no spills, no stack, shared memory exactly catalog.shared_bytes, and
    registers × threads within one SM's 64 K registers."""
    from microgpt_tui.kernels.catalog import plan

    compiled = matmul_compiled(kernel)
    problem = Problem(kernel, 64)
    (launch,) = plan(problem)
    res = compiled.resources[kernel]
    assert compiled.arch == 90 and ".target sm_90" in compiled.ptx
    assert res.spills == 0 and res.stack_bytes == 0, compiled.log
    assert res.shared_bytes == shared_bytes(kernel, defines_for(problem)) == launch.shared_bytes
    assert 0 < res.registers <= 255 and res.registers * launch.threads <= 65536


def _count(ptx: str, op: str) -> int:
    import re

    return len(re.findall(rf"^\s*{re.escape(op)}\b", ptx, re.MULTILINE))


def test_tiled_matmul_reads_shared_memory_once_per_two_fmas(matmul_compiled):
    """TILE 32, TM 4, unrolled: per 4 values of k, 4 float4 loads of A and 4 words of B feed
    16 FMAs, so 8 shared loads per 16 FMAs (the one-output TILE 16 kernel: 20 per 16)."""
    ptx = matmul_compiled("matmul_tiled").ptx
    loads, vectors, fmas = _count(ptx, "ld.shared"), _count(ptx, "ld.shared.v4"), \
        _count(ptx, "fma.rn.f32")
    assert fmas == 32 * 4  # TILE values of k × TM outputs
    assert vectors == 32 // 4 * 4 and loads == vectors + 32
    assert loads * 16 == fmas * 8


def test_register_blocked_reads_shared_memory_only_as_float4(matmul_compiled):
    """Per k: TM/4 float4 of A and TN/4 float4 of B feed TM·TN = 64 FMAs; BK = 8 unrolled."""
    ptx = matmul_compiled("matmul_register_blocked").ptx
    assert _count(ptx, "fma.rn.f32") == 8 * 64
    assert _count(ptx, "ld.shared") == _count(ptx, "ld.shared.v4") == 8 * (2 + 2)


@pytest.mark.parametrize("arch", [90, 80])
def test_matmul_tc_runs_on_the_tensor_cores(matmul_compiled, arch):
    """Inline PTX (NVRTC from pip has no <mma.h>): per BK = 32 step, 2 k16 slices × (4 × 4)
    mma.sync per warp, A fragments by ldmatrix, B by ldmatrix.trans; sm_80 and newer."""
    compiled = matmul_compiled("matmul_tc", arch)
    ptx = compiled.ptx
    assert compiled.cubin[:4] == b"\x7fELF" and f".target sm_{arch}" in ptx
    assert _count(ptx, "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32") == 2 * 4 * 4
    assert _count(ptx, "ldmatrix.sync.aligned.m8n8.x4.shared.b16") == 2 * 4
    assert _count(ptx, "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16") == 2 * 2
    assert "fma.rn.f32" not in ptx
    assert compiled.resources["matmul_tc"].spills == 0


def test_matmul_tc_source_signature_takes_bf16_bits_and_fp32_out():
    source = KERNELS["matmul_tc"].source_text()
    assert KERNELS["matmul_tc"].dtype == "bf16"
    assert "const unsigned short* __restrict__ A" in source
    assert "float* __restrict__ C" in source


@requires_gpu
@pytest.mark.parametrize("n", [1, 17, 130, 300])
def test_gpu_matmul_tc_matches_the_bf16_reference_within_its_bound(n):
    """bf16 products are exact in fp32; only the accumulation rounds, and a tensor core may
    truncate inside one mma: |C − A·B| ≤ 2·γ(n)·(|A|·|B|) against the float64 product."""
    from microgpt_tui.kernels.sim import as_float, make_inputs, reference

    problem = Problem("matmul_tc", n)
    inputs = make_inputs(problem)
    run = runtime.run_on_gpu(problem, inputs, repeats=1)
    a, b = (np.abs(as_float(inputs[k]).astype(np.float64)) for k in ("A", "B"))
    gamma = n * 2.0**-24 / (1 - n * 2.0**-24)
    error = np.abs(run.output.astype(np.float64) - reference(problem, inputs))
    assert np.all(error <= 2 * gamma * (a @ b) + 1e-30)


# -- attention kernels (issue 17): compile figures per shared-memory budget, tensor cores -----

ATTENTION_BUDGETS = {"no device": None, "Hopper": "HOPPER"}


@pytest.fixture(scope="session")
def attention_compiled(tmp_path_factory):
    """A flash kernel at (d, device limits) compiled once into a session cache."""
    from microgpt_tui.kernels import budget

    cache = tmp_path_factory.mktemp("attention-cache")
    done = {}

    def get(kernel: str, d: int, device: str | None, arch: int | None = None, trace=False):
        limits = getattr(budget, device) if device else None
        problem = Problem(kernel, 256, d, heads=16)
        defines = defines_for(problem, limits=limits)
        key = (kernel, d, device, arch, trace)
        if key not in done:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("MICROGPT_TUI_CACHE", str(cache))
                done[key] = compile_kernel(kernel, defines, arch=arch, trace=trace)
        return problem, defines, limits, done[key]

    return get


@pytest.mark.parametrize("device", list(ATTENTION_BUDGETS.values()),
                         ids=list(ATTENTION_BUDGETS))
@pytest.mark.parametrize("d", [16, 17, 64, 96, 128])
@pytest.mark.parametrize("kernel", ["flash_attention_fwd", "flash_attention_tc"])
def test_attention_compile_figures_agree_with_the_budget(attention_compiled, kernel, d, device):
    """ptxas (sm_90), at the tiles the budget picks with no device (48 KiB) and on Hopper
    (227 KiB opt-in): no spills, no stack; no static shared memory (all of it is dynamic,
    exactly the catalog's figure, within the device's limit); registers × threads within one
    SM's 64 K registers."""
    from microgpt_tui.kernels.budget import BASE_SHARED_PER_BLOCK
    from microgpt_tui.kernels.catalog import dynamic_shared_bytes, plan

    problem, defines, limits, compiled = attention_compiled(kernel, d, device)
    res = compiled.resources[kernel]
    (launch,) = plan(problem, defines)
    assert res.spills == 0 and res.stack_bytes == 0, compiled.log
    assert res.shared_bytes == shared_bytes(kernel, defines) == 0
    assert launch.dynamic_shared_bytes == dynamic_shared_bytes(kernel, defines)
    assert launch.shared_bytes == launch.dynamic_shared_bytes > 0
    limit = limits.per_block_optin if limits else BASE_SHARED_PER_BLOCK
    assert launch.shared_bytes <= limit
    assert 0 < res.registers <= 255 and res.registers * launch.threads <= 65536
    # The budget chose the tiles assuming at most REGISTER_BOUND registers per thread.
    from microgpt_tui.kernels.budget import REGISTER_BOUND

    assert res.registers <= REGISTER_BOUND[kernel]
    assert launch.grid == (-(-256 // defines["BR"]), 16, 1)


def test_hopper_budget_takes_fp32_flash_above_48_kib(attention_compiled):
    """At d = 128 the fp32 kernel's 64×64 tiles need 112.5 KiB: only with the opt-in attribute,
    which is why the launch carries it as dynamic shared memory."""
    problem, defines, _, _ = attention_compiled("flash_attention_fwd", 128, "HOPPER")
    from microgpt_tui.kernels.catalog import plan

    (launch,) = plan(problem, defines)
    assert (defines["BR"], defines["BC"]) == (64, 64)
    assert launch.dynamic_shared_bytes == 115_200 > 48 * 1024


def _ptx_count(ptx: str, op: str) -> int:
    import re

    return len(re.findall(rf"^\s*{re.escape(op)}\b", ptx, re.MULTILINE))


@pytest.mark.parametrize("arch", [90, 80])
def test_flash_tc_runs_on_the_tensor_cores(attention_compiled, arch):
    """Per K/V tile (d 64, BC 64): S = Q·Kᵀ is 8 key n-tiles × 4 k-steps and O += P·V is 4
    k-steps × 8 head-dim n-tiles of mma.sync m16n8k16 (bf16 in, fp32 accumulate); V's B
    fragments by ldmatrix.trans; P packed to bf16 pairs 4 per k-step; Q never reloaded."""
    _, defines, _, compiled = attention_compiled("flash_attention_tc", 64, None, arch)
    assert (defines["BR"], defines["BC"]) == (64, 64)
    ptx = compiled.ptx
    assert compiled.cubin[:4] == b"\x7fELF" and f".target sm_{arch}" in ptx
    assert _ptx_count(ptx, "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32") == 8 * 4 + 4 * 8
    assert _ptx_count(ptx, "ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16") == 4 * 8
    assert _ptx_count(ptx, "cvt.rn.bf16x2.f32") == 4 * 4
    assert _ptx_count(ptx, "shfl.sync.bfly.b32") == 2 * 2 + 2 * 2  # row max per tile; l once
    assert compiled.resources["flash_attention_tc"].spills == 0


def test_flash_fp32_reduces_rows_by_shuffles_and_reads_v_as_float4(attention_compiled):
    """The fp32 kernel's row max is 3 butterfly shuffles per row (8 lanes share a row), and
    its P·V reads V in 16-byte chunks; no tensor-core instruction."""
    _, defines, _, compiled = attention_compiled("flash_attention_fwd", 64, None)
    ptx = compiled.ptx
    tm = defines["BR"] // 16
    assert _ptx_count(ptx, "shfl.sync.bfly.b32") == 2 * 3 * tm  # max per tile, l at the end
    assert _ptx_count(ptx, "ld.shared.v4.f32") > 0 and "mma.sync" not in ptx


@pytest.mark.parametrize("kernel", ["flash_attention_fwd", "flash_attention_tc"])
def test_traced_flash_builds_compile_without_spills(attention_compiled, kernel):
    _, _, _, compiled = attention_compiled(kernel, 64, None, None, True)
    assert "%globaltimer" in compiled.ptx and compiled.resources[kernel].spills == 0


def test_flash_tc_source_takes_bf16_bits_and_gives_fp32():
    spec = KERNELS["flash_attention_tc"]
    source = spec.source_text()
    assert spec.dtype == "bf16" and spec.family == "attention"
    assert "const bf16_bits* __restrict__ Q" in source and "float* __restrict__ O" in source
    assert "extern __shared__" in source
    assert "extern __shared__" in KERNELS["flash_attention_fwd"].source_text()


def test_kernels_compile_prints_the_flash_kernels_dynamic_shared_memory(capsys):
    """ptxas reports only static shared memory (0 B for flash, whose tiles are dynamic): the
    CLI adds the launch's dynamic bytes, in text and JSON."""
    import json

    from microgpt_tui.kernels.catalog import Problem, plan
    from microgpt_tui.tui.cli.main import main

    dynamic = plan(Problem("flash_attention_fwd", 256, 64))[0].dynamic_shared_bytes
    assert dynamic > 0
    assert main(["kernels", "compile", "flash_attention_fwd"]) == 0
    assert f"0 B shared + {dynamic:,} B dynamic" in capsys.readouterr().out
    assert main(["kernels", "compile", "flash_attention_fwd", "--json"]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert record["resources"]["flash_attention_fwd"]["dynamic_shared_bytes"] == dynamic


def _limits_cases():
    from microgpt_tui.kernels.budget import HOPPER

    return [None, HOPPER]


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_every_launch_s_block_is_the_block_its_kernel_was_built_for(kernel):
    """A kernel with __launch_bounds__(THREADS) indexes its work by THREADS: plan()'s block
    must have exactly that many threads (the real driver refuses more, and fewer would leave
    work undone) — for the 48-KiB tiles and the Hopper ones. The fake driver cannot see this
    in a CUBIN, so it is checked here, in the PTX's .maxntid."""
    import re

    from microgpt_tui.kernels.catalog import plan

    for limits in _limits_cases():
        family = KERNELS[kernel].family
        problem = Problem(kernel, 256, 128) if family == "attention" else Problem(kernel, 256)
        defines = defines_for(problem, limits=limits)
        compiled = compile_kernel(kernel, defines, arch=90)
        for launch in plan(problem, defines):
            declared = re.search(rf"\.entry {launch.entry}\b[^{{]*?\.maxntid\s+(\d+), (\d+), (\d+)",
                                 compiled.ptx, re.S)
            if declared:
                x, y, z = map(int, declared.groups())
                assert launch.threads == x * y * z, (launch.entry, launch.block, declared.groups())
