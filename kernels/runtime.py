"""Compile the kernels with NVRTC and launch them with the CUDA driver API (cuda-python).

Compilation needs only the NVRTC library (the `nvidia-cuda-nvrtc` wheel), never a GPU. Compiled
code is cached on disk under the user cache directory, keyed by source, options, arch and NVRTC
version. Launching needs libcuda (the NVIDIA driver) and a GPU; without them `device_status()`
says so in one line and callers fall back to the simulator. Every failure is a `KernelError`
whose message is fit to show a user: never a traceback.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
import statistics
import threading
import time
from dataclasses import asdict, dataclass, field
from importlib import resources

import numpy as np

from .budget import SharedLimits
from .catalog import (
    FLOAT_BYTES,
    KERNELS,
    Launch,
    Problem,
    ProblemError,
    check_problem,
    defines_for,
    extra_memory_bytes,
    output_shape,
    plan,
)
from .trace import SLOT_DTYPE, KernelTrace, decode_trace_buffers, make_trace

NVRTC_INSTALL_HINT = (
    'NVRTC (the CUDA runtime compiler) is not installed: pip install "microgpt-tui[nvrtc]" '
    "(adds the nvidia-cuda-nvrtc wheel)"
)
DEFAULT_ARCH = 90  # compiled for when no GPU is present: Hopper, sm_90
GPU_MAX_N = {"matmul": 32768, "attention": 65536}
MAX_TRACE_SLOTS = 2_000_000  # 80 MB of trace records; larger runs are timed without a trace


class KernelError(RuntimeError):
    """Compiling or launching failed; str() is a message fit for a user."""


class NvrtcMissing(KernelError):
    pass


class CompileError(KernelError):
    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


class NoDevice(KernelError):
    """No driver or no GPU: the label says which, and the simulator stands in."""


class CudaError(KernelError):
    def __init__(self, call: str, name: str) -> None:
        super().__init__(_explain(call, name))
        self.call = call
        self.name = name


def _explain(call: str, name: str) -> str:
    hints = {
        "CUDA_ERROR_OUT_OF_MEMORY": "out of GPU memory; try a smaller --n",
        "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES": "the launch needs more registers or threads than "
        "an SM has",
        "CUDA_ERROR_INVALID_VALUE": "a size or launch dimension is beyond the device's limits",
        "CUDA_ERROR_LAUNCH_FAILED": "the kernel crashed (launch failure)",
        "CUDA_ERROR_ILLEGAL_ADDRESS": "the kernel read or wrote outside its buffers",
        "CUDA_ERROR_UNSUPPORTED_PTX_VERSION": "the driver is older than NVRTC; update the NVIDIA "
        "driver",
        "CUDA_ERROR_NO_BINARY_FOR_GPU": "the compiled code does not match this GPU's arch",
    }
    hint = hints.get(name)
    return f"{call} failed: {name}" + (f" ({hint})" if hint else "")


# ---------------------------------------------------------------------------------------------
# NVRTC


@functools.cache
def _nvrtc():
    try:
        from cuda.bindings import nvrtc

        result, major, minor = nvrtc.nvrtcVersion()
    except Exception as error:  # noqa: BLE001 (a missing library surfaces as many error types)
        raise NvrtcMissing(NVRTC_INSTALL_HINT) from error
    if result != nvrtc.nvrtcResult.NVRTC_SUCCESS:
        raise NvrtcMissing(NVRTC_INSTALL_HINT)
    return nvrtc, (major, minor)


@functools.cache
def supported_archs() -> tuple[int, ...]:
    """The SM architectures this NVRTC can compile for, e.g. (75, 80, …, 121)."""
    nvrtc, _ = _nvrtc()
    result, archs = nvrtc.nvrtcGetSupportedArchs()
    _check_nvrtc(nvrtc, result, "nvrtcGetSupportedArchs")
    return tuple(int(a) for a in archs)


def choose_arch(device_arch: int | None) -> tuple[int, bool]:
    """(arch to compile for, whether to load CUBIN) for a device arch like 90 (None: no GPU).

    The device's exact arch when NVRTC knows it. Otherwise the newest supported arch of the same
    major version, whose CUBIN runs on the newer minor; else (a GPU newer than NVRTC) the newest
    supported arch below it, loaded as PTX for the driver to JIT-compile.
    """
    archs = supported_archs()
    if device_arch is None:
        return (DEFAULT_ARCH if DEFAULT_ARCH in archs else archs[-1]), True
    if device_arch in archs:
        return device_arch, True
    same_major = [a for a in archs if a // 10 == device_arch // 10 and a <= device_arch]
    if same_major:
        return same_major[-1], True
    older = [a for a in archs if a <= device_arch]
    if not older:
        raise KernelError(f"this NVRTC cannot compile for sm_{device_arch} (oldest: sm_{archs[0]})")
    return older[-1], False


def _check_nvrtc(nvrtc, result, call: str) -> None:
    if result != nvrtc.nvrtcResult.NVRTC_SUCCESS:
        _, name = nvrtc.nvrtcGetErrorString(result)
        raise KernelError(f"{call} failed: {name.decode()}")


@dataclass(frozen=True)
class Resources:
    """What ptxas reports for one entry point."""

    registers: int
    shared_bytes: int
    stack_bytes: int
    spill_stores: int
    spill_loads: int

    @property
    def spills(self) -> int:
        return self.spill_stores + self.spill_loads


_ENTRY = re.compile(r"Compiling entry function '(\w+)'")
_FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED = re.compile(r"Used (\d+) registers")
_SMEM = re.compile(r"(\d+) bytes smem")


def parse_ptxas(log: str) -> dict[str, Resources]:
    """Registers, shared memory and spills per entry point from a `ptxas -v` log."""
    found: dict[str, Resources] = {}
    entry = None
    frame: tuple[int, ...] = (0, 0, 0)
    for line in log.splitlines():
        if match := _ENTRY.search(line):
            entry, frame = match.group(1), (0, 0, 0)
        elif entry and (match := _FRAME.search(line)):
            frame = tuple(int(g) for g in match.groups())
        elif entry and (match := _USED.search(line)):
            smem = _SMEM.search(line)
            found[entry] = Resources(
                registers=int(match.group(1)),
                shared_bytes=int(smem.group(1)) if smem else 0,
                stack_bytes=frame[0],
                spill_stores=frame[1],
                spill_loads=frame[2],
            )
            entry = None
    return found


@dataclass
class CompiledKernel:
    kernel: str
    arch: int
    options: list[str]
    cubin: bytes
    ptx: str
    log: str
    resources: dict[str, Resources]
    compile_seconds: float
    from_cache: bool = False
    traced: bool = False

    @property
    def arch_name(self) -> str:
        return f"sm_{self.arch}"


def _headers() -> dict[str, str]:
    root = resources.files("microgpt_tui.kernels")
    return {p.name: p.read_text("utf-8") for p in root.iterdir() if p.name.endswith(".cuh")}


def compile_options(defines: dict[str, int], arch: int, trace: bool) -> list[str]:
    options = [f"--gpu-architecture=sm_{arch}", "--ptxas-options=-v", "-std=c++17", "-lineinfo"]
    options += [f"-D{name}={value}" for name, value in sorted(defines.items())]
    if trace:
        options.append("-DMICROGPT_TRACE=1")
    return options


def _cache_path(key: str):
    from ..engine.data import cache_dir

    return cache_dir() / "kernels" / f"{key}.json"


def compile_kernel(
    name: str,
    defines: dict[str, int] | None = None,
    *,
    arch: int | None = None,
    trace: bool = False,
    use_cache: bool = True,
) -> CompiledKernel:
    """Compile one kernel source to CUBIN (for `arch`, default sm_90) plus PTX for display.

    Raises NvrtcMissing (how to install), CompileError (with the log) or KernelError.
    """
    spec = KERNELS[name]
    nvrtc, version = _nvrtc()
    defines = dict(spec.defines if defines is None else defines)
    if arch is None:
        arch = choose_arch(None)[0]
    if arch not in supported_archs():
        archs = ", ".join(f"sm_{a}" for a in supported_archs())
        raise KernelError(
            f"NVRTC {version[0]}.{version[1]} cannot compile for sm_{arch}; it supports {archs}"
        )
    source = spec.source_text()
    headers = _headers()
    options = compile_options(defines, arch, trace)
    key_text = json.dumps([source, sorted(headers.items()), options, version], sort_keys=True)
    key = hashlib.sha256(key_text.encode("utf-8")).hexdigest()[:32]
    path = _cache_path(key)
    if use_cache:
        cached = _load_cached(path)
        if cached is not None:
            return cached

    start = time.perf_counter()
    names = sorted(headers)
    result, program = nvrtc.nvrtcCreateProgram(
        source.encode(), spec.source.encode(), len(names),
        [headers[n].encode() for n in names], [n.encode() for n in names],
    )
    _check_nvrtc(nvrtc, result, "nvrtcCreateProgram")
    try:
        encoded = [o.encode() for o in options]
        (compiled,) = nvrtc.nvrtcCompileProgram(program, len(encoded), encoded)
        log = _program_text(nvrtc, program, nvrtc.nvrtcGetProgramLogSize, nvrtc.nvrtcGetProgramLog)
        if compiled != nvrtc.nvrtcResult.NVRTC_SUCCESS:
            first = next((line for line in log.splitlines() if "error" in line), "see the log")
            raise CompileError(f"{spec.source} did not compile: {first.strip()}", log)
        cubin = _program_bytes(nvrtc, program, nvrtc.nvrtcGetCUBINSize, nvrtc.nvrtcGetCUBIN)
        ptx = _program_text(nvrtc, program, nvrtc.nvrtcGetPTXSize, nvrtc.nvrtcGetPTX)
    finally:
        nvrtc.nvrtcDestroyProgram(program)
    kernel = CompiledKernel(
        kernel=name,
        arch=arch,
        options=options,
        cubin=cubin,
        ptx=ptx,
        log=log,
        resources=parse_ptxas(log),
        compile_seconds=time.perf_counter() - start,
        traced=trace,
    )
    if use_cache:
        _store_cached(path, kernel)
    return kernel


def _program_bytes(nvrtc, program, size_call, get_call) -> bytes:
    result, size = size_call(program)
    _check_nvrtc(nvrtc, result, size_call.__name__)
    # A fresh mutable buffer for NVRTC to write into: `b" " * 1` would be the interned `b" "`,
    # and an empty log (size 1, just the NUL) would overwrite it for the whole process.
    buffer = bytearray(size)
    (result,) = get_call(program, buffer)
    _check_nvrtc(nvrtc, result, get_call.__name__)
    return bytes(buffer)


def _program_text(nvrtc, program, size_call, get_call) -> str:
    return _program_bytes(nvrtc, program, size_call, get_call).rstrip(b"\0").decode(
        "utf-8", "replace"
    )


def _store_cached(path, kernel: CompiledKernel) -> None:
    from ..engine.files import atomic_write_bytes

    record = asdict(kernel)
    record["cubin"] = base64.b64encode(kernel.cubin).decode("ascii")
    record.pop("from_cache")
    try:
        atomic_write_bytes(path, json.dumps(record).encode("utf-8"))
    except OSError:
        pass  # an unwritable cache only costs a recompile next time


MAX_CACHE_ENTRY_BYTES = 64 * 1024 * 1024

# Each cached field's JSON type; an entry with any other shape is damaged (a miss, rewritten).
_CACHED_TYPES: dict[str, type | tuple[type, ...]] = {
    "kernel": str, "arch": int, "options": list, "cubin": str, "ptx": str, "log": str,
    "resources": dict, "compile_seconds": (int, float), "traced": bool,
}
_RESOURCE_FIELDS = {"registers", "shared_bytes", "stack_bytes", "spill_stores", "spill_loads"}


def _load_cached(path) -> CompiledKernel | None:
    """The cache entry at `path`, or None when it is missing or damaged in any way (bad JSON,
    a field missing or of the wrong type): the caller then compiles and rewrites it."""
    from ..engine.files import read_user_file

    try:
        data = read_user_file(path, expected="a cache entry", max_bytes=MAX_CACHE_ENTRY_BYTES,
                              error=OSError, too_large=lambda p, size: OSError(p))
        record = json.loads(data.decode("utf-8"))
        if not _is_cache_record(record):
            return None
        record["cubin"] = base64.b64decode(record["cubin"], validate=True)
        record["resources"] = {k: Resources(**v) for k, v in record["resources"].items()}
        return CompiledKernel(**record, from_cache=True)
    except (OSError, ValueError, RecursionError):
        return None  # missing or damaged: compile again


def _is_cache_record(record: object) -> bool:
    def whole(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if not isinstance(record, dict) or set(record) != set(_CACHED_TYPES):
        return False
    for key, kind in _CACHED_TYPES.items():
        value = record[key]
        if not isinstance(value, kind) or (kind is int and not whole(value)):
            return False
    if not all(isinstance(option, str) for option in record["options"]):
        return False
    return all(
        isinstance(entry, str) and isinstance(res, dict) and set(res) == _RESOURCE_FIELDS
        and all(whole(n) for n in res.values())
        for entry, res in record["resources"].items()
    )


# ---------------------------------------------------------------------------------------------
# Driver

# cuda-python 13 and NVRTC 13 need a driver for CUDA 13.0 or newer (the R580 branch onwards);
# cuDriverGetVersion reports 1000·major + 10·minor. Older drivers cannot load NVRTC 13's code.
MIN_DRIVER_VERSION = 13000
MIN_DRIVER_BRANCH = "R580"
DEFAULT_DYNAMIC_SHARED_LIMIT = 48 * 1024  # above this a function must opt in (an attribute)


def format_cuda_version(version: int) -> str:
    """13000 → "13.0" (cuDriverGetVersion's encoding)."""
    return f"{version // 1000}.{version % 1000 // 10}"


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    arch: int  # compute capability as major·10 + minor, e.g. 90
    sm_count: int
    max_shared_per_block: int  # without opting in (48 KiB)
    max_shared_optin: int = 0  # with CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES (227 KiB)
    clock_khz: int = 0  # CU_DEVICE_ATTRIBUTE_CLOCK_RATE: converts clock64() cycles to time
    max_shared_per_sm: int = 0  # CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
    reserved_shared_per_block: int = 0  # the runtime's own share of each block's (1 KiB)
    driver_version: int = 0  # cuDriverGetVersion, e.g. 13000

    @property
    def shared_limit(self) -> int:
        """The most shared memory one block can have (static + dynamic) on this device."""
        return max(self.max_shared_optin, self.max_shared_per_block)


def shared_limits(info: DeviceInfo) -> SharedLimits:
    """The device's shared memory as the tile budget (kernels/budget.py) reads it."""
    base = SharedLimits()
    return SharedLimits(
        per_block=info.max_shared_per_block or base.per_block,
        per_block_optin=info.shared_limit or base.per_block_optin,
        per_sm=info.max_shared_per_sm or max(base.per_sm, info.shared_limit),
        reserved_per_block=info.reserved_shared_per_block,
    )


@dataclass(frozen=True)
class DeviceStatus:
    """Whether kernels can launch here; `label` says what runs them, in a few words."""

    available: bool
    label: str
    info: DeviceInfo | None = None
    reason: str = ""


class DriverTooOld(NoDevice):
    """The NVIDIA driver predates CUDA 13: the message names the version found and needed."""


class ContextPoisoned(KernelError):
    """An earlier kernel crash left the process's CUDA context unusable: restart the process."""


def _driver_module():
    """`cuda.bindings.driver`; the tests' fake driver (tests/fake_cuda_driver.py) replaces this."""
    from cuda.bindings import driver

    return driver


def driver_too_old_message(version: int) -> str:
    return (
        f"the NVIDIA driver supports CUDA {format_cuda_version(version)}; the kernels need a "
        f"driver for CUDA {format_cuda_version(MIN_DRIVER_VERSION)} or newer (cuda-python 13, "
        f"NVRTC 13): upgrade the NVIDIA driver to {MIN_DRIVER_BRANCH} or newer"
    )


def _driver():
    """The driver module with cuInit done; NoDevice when libcuda or a GPU is missing, and
    DriverTooOld (a NoDevice) when the driver cannot run CUDA 13 code."""
    try:
        driver = _driver_module()
        result, version = driver.cuDriverGetVersion()  # needs no cuInit
    except Exception as error:  # noqa: BLE001 (no libcuda raises loader-specific errors)
        raise NoDevice("no CUDA driver") from error
    if result == driver.CUresult.CUDA_SUCCESS and int(version) < MIN_DRIVER_VERSION:
        raise DriverTooOld(driver_too_old_message(int(version)))
    try:
        (result,) = driver.cuInit(0)
    except Exception as error:  # noqa: BLE001
        raise NoDevice("no CUDA driver") from error
    if result == driver.CUresult.CUDA_ERROR_NO_DEVICE:
        raise NoDevice("no GPU")
    if result != driver.CUresult.CUDA_SUCCESS:
        raise NoDevice(f"CUDA driver unusable ({_error_name(driver, result)})")
    result, count = driver.cuDeviceGetCount()
    if result != driver.CUresult.CUDA_SUCCESS or count == 0:
        raise NoDevice("no GPU")
    return driver


def driver_version() -> int | None:
    """cuDriverGetVersion (e.g. 13000), or None when there is no driver library at all."""
    try:
        driver = _driver_module()
        result, version = driver.cuDriverGetVersion()
    except Exception:  # noqa: BLE001
        return None
    return int(version) if result == driver.CUresult.CUDA_SUCCESS else None


def nvrtc_version() -> tuple[int, int]:
    """(major, minor) of the installed NVRTC; NvrtcMissing when there is none."""
    return _nvrtc()[1]


_PTX_VERSION = re.compile(r"^\s*\.version\s+(\d+)\.(\d+)", re.MULTILINE)


def ptx_isa(ptx: str) -> str | None:
    """The PTX ISA version a PTX text declares (".version 9.5" → "9.5")."""
    match = _PTX_VERSION.search(ptx)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def check_ptx_fallback(driver_version: int, nvrtc: tuple[int, int], device_arch: int,
                       ptx: str = "") -> None:
    """A GPU newer than NVRTC gets PTX for the driver to JIT-compile; that PTX's ISA is NVRTC's,
    and a driver older than NVRTC cannot read it. Raise a KernelError saying what to upgrade."""
    needed = 1000 * nvrtc[0] + 10 * nvrtc[1]
    if driver_version >= needed:
        return
    isa = ptx_isa(ptx) if ptx else None
    raise KernelError(
        f"NVRTC {nvrtc[0]}.{nvrtc[1]} cannot compile sm_{device_arch} code, so the kernels would "
        f"load as PTX{f' ISA {isa}' if isa else ''} for the driver to compile; that needs a "
        f"driver for CUDA {nvrtc[0]}.{nvrtc[1]} or newer, and this one supports CUDA "
        f"{format_cuda_version(driver_version)}: upgrade the NVIDIA driver, or install an "
        f"nvidia-cuda-nvrtc that knows sm_{device_arch}"
    )


def _error_name(driver, result) -> str:
    """"CUDA_ERROR_…" for a CUresult: cuGetErrorName, else the enum member's own name."""
    try:
        status, name = driver.cuGetErrorName(result)
        if status == driver.CUresult.CUDA_SUCCESS and name:
            return name.decode()
    except Exception:  # noqa: BLE001 (the lookup must never hide the original error)
        pass
    return getattr(result, "name", None) or f"CUresult {int(result)}"


# Errors that leave the context unusable: every later call in it fails until the process ends.
STICKY_ERRORS = frozenset({
    "CUDA_ERROR_ILLEGAL_ADDRESS", "CUDA_ERROR_LAUNCH_FAILED", "CUDA_ERROR_MISALIGNED_ADDRESS",
    "CUDA_ERROR_ILLEGAL_INSTRUCTION", "CUDA_ERROR_HARDWARE_STACK_ERROR", "CUDA_ERROR_INVALID_PC",
    "CUDA_ERROR_INVALID_ADDRESS_SPACE", "CUDA_ERROR_ASSERT", "CUDA_ERROR_LAUNCH_TIMEOUT",
})
RESTART_HINT = "restart microgpt-tui (the process) to use the GPU again"


def _call(driver, call: str, *args):
    """Run driver.<call>(*args) and return its values (one value bare, several as a tuple).

    cuda-python returns (CUresult, *values); a failure becomes CudaError naming the error, and
    a binding that rejects its arguments (TypeError and the like) a one-line KernelError.
    """
    try:
        out = getattr(driver, call)(*args)
    except Exception as error:  # noqa: BLE001 (bindings raise several types for bad arguments)
        raise KernelError(f"{call} failed: {type(error).__name__}: {error}") from error
    result, values = out[0], out[1:]
    if result != driver.CUresult.CUDA_SUCCESS:
        raise CudaError(call, _error_name(driver, result))
    return values[0] if len(values) == 1 else values


@functools.cache
def device_status() -> DeviceStatus:
    """Probe once: GPU 0's name and arch, or why kernels will be simulated."""
    try:
        driver = _driver()
        device = _call(driver, "cuDeviceGet", 0)
        attr = driver.CUdevice_attribute

        def attribute(name):
            return int(_call(driver, "cuDeviceGetAttribute", getattr(attr, name), device))

        info = DeviceInfo(
            name=_call(driver, "cuDeviceGetName", 256, device).split(b"\0")[0].decode(),
            arch=10 * attribute("CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR")
            + attribute("CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR"),
            sm_count=attribute("CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT"),
            max_shared_per_block=attribute("CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK"),
            max_shared_optin=attribute("CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN"),
            clock_khz=attribute("CU_DEVICE_ATTRIBUTE_CLOCK_RATE"),
            max_shared_per_sm=attribute("CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR"),
            reserved_shared_per_block=attribute(
                "CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK"),
            driver_version=int(_call(driver, "cuDriverGetVersion")),
        )
    except DriverTooOld as reason:
        return DeviceStatus(False, "SIMULATED — NVIDIA driver too old", reason=str(reason))
    except NoDevice as reason:
        return DeviceStatus(False, f"SIMULATED — {reason}", reason=str(reason))
    except KernelError as error:
        return DeviceStatus(False, "SIMULATED — GPU unusable", reason=str(error))
    return DeviceStatus(True, f"{info.name} (sm_{info.arch}, {info.sm_count} SMs)", info)


def device_arch() -> tuple[int, bool]:
    """choose_arch for GPU 0, or for no GPU (the default arch) when none is usable."""
    status = device_status()
    return choose_arch(status.info.arch if status.info is not None else None)


class _PrimaryContext:
    """GPU 0's primary context, retained once per process and never released or reset.

    Releasing it after each run destroyed and rebuilt it every time, and a reset would also free
    the memory of anything sharing it (a co-resident torch). After a sticky error (a crashed
    kernel) it is unusable until the process ends: every later run says so in one line.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.device = None
        self.context = None
        self.poisoned = ""

    def acquire(self, driver) -> tuple:
        with self.lock:
            if self.poisoned:
                raise ContextPoisoned(self.poisoned)
            if self.context is None:
                device = _call(driver, "cuDeviceGet", 0)
                self.context = _call(driver, "cuDevicePrimaryCtxRetain", device)
                self.device = device
            context = self.context
        _call(driver, "cuCtxSetCurrent", context)  # per thread: workers run on their own
        return self.device, context

    def poison(self, error: CudaError) -> None:
        with self.lock:
            self.poisoned = (f"the GPU is unusable after an earlier {error.name} in {error.call}; "
                             f"{RESTART_HINT}")


_PRIMARY = _PrimaryContext()


@dataclass
class GpuRun:
    output: np.ndarray
    seconds: float  # median over repeats of all the problem's launches, by CUDA events
    samples: list[float]
    trace: KernelTrace | None
    compiled: CompiledKernel
    notes: list[str] = field(default_factory=list)
    iterations: int = 1  # iterations of the launches in each timed graph (a sample / this)


def _kernel_args(problem: Problem, entry: str, buffers: dict[str, int], trace_ptr: int,
                 steps: int) -> list[np.generic]:
    """Kernel arguments as numpy scalars, in the order of the entry's C signature: device
    pointers as np.uint64 (8 bytes, like any pointer), `int` as np.int32, `float` as
    np.float32. `pack_params` turns them into the array cuLaunchKernel reads."""
    ptr = np.uint64
    n, d = np.int32(problem.n), np.int32(problem.d)
    scale = np.float32(1.0 / np.sqrt(problem.d))
    causal = np.int32(problem.causal)
    tail: list[np.generic] = [ptr(trace_ptr), np.int32(steps)]
    if problem.family == "matmul":
        return [ptr(buffers["A"]), ptr(buffers["B"]), ptr(buffers["C"]), n, n, n, *tail]
    if entry == "attention_scores":
        return [ptr(buffers["Q"]), ptr(buffers["K"]), ptr(buffers["S"]), n, d, scale, causal, *tail]
    if entry == "attention_softmax":
        return [ptr(buffers["S"]), n, *tail]
    if entry == "attention_pv":
        return [ptr(buffers["S"]), ptr(buffers["V"]), ptr(buffers["O"]), n, d, *tail]
    return [ptr(buffers["Q"]), ptr(buffers["K"]), ptr(buffers["V"]), ptr(buffers["O"]), n,
            scale, causal, *tail]


def pack_params(args: list[np.generic]) -> tuple[np.ndarray, list[np.ndarray]]:
    """cuLaunchKernel's `kernelParams`: a void*[] whose i-th entry points at argument i's bytes.

    Returns (the pointer array, the holders of the values). cuda-python passes an int straight
    through as the void** address (pointers.ctypes.data), so both must stay alive until the
    launch call returns; the driver copies the values at launch.
    """
    holders = [np.array([a], dtype=a.dtype) for a in args]
    pointers = np.array([h.ctypes.data for h in holders], dtype=np.uintp)
    return pointers, holders


@dataclass(frozen=True)
class _PackedLaunch:
    """One launch with its arguments packed ahead of time; holding it keeps `params` and the
    `holders` it points into alive for every launch made from it."""

    function: object
    launch: Launch
    params: np.ndarray
    holders: list[np.ndarray]


def _pack_launches(problem: Problem, launches: list[Launch], functions: dict,
                   buffers: dict[str, int], trace_ptrs: list[int] | None = None,
                   ) -> list[_PackedLaunch]:
    """Every launch of `problem` with its arguments packed, in stream order. Done once before
    timing, so the timed loop only launches and Python's packing is not counted as GPU time."""
    packed = []
    for index, launch in enumerate(launches):
        trace_ptr = trace_ptrs[index] if trace_ptrs else 0
        args = _kernel_args(problem, launch.entry, buffers, trace_ptr, launch.steps)
        packed.append(_PackedLaunch(functions[launch.entry], launch, *pack_params(args)))
    return packed


# Timing: the launches are captured into a CUDA graph of `iterations` back-to-back copies, and
# one graph launch is timed between two events, then divided. Timing a loop of cuLaunchKernel
# calls instead would measure Python's ~5 µs per launch whenever a kernel is shorter than
# that (the GPU idles between launches); a graph replays every launch with no Python between.
TARGET_SAMPLE_SECONDS = 2e-3  # one timed sample lasts at least this long (event resolution)
MAX_GRAPH_ITERATIONS = 2048


def iterations_for(seconds_per_iteration: float) -> int:
    """How many iterations make one timed sample last TARGET_SAMPLE_SECONDS."""
    if seconds_per_iteration <= 0:
        return MAX_GRAPH_ITERATIONS
    wanted = math.ceil(TARGET_SAMPLE_SECONDS / seconds_per_iteration)
    return max(1, min(MAX_GRAPH_ITERATIONS, wanted))


class _Gpu:
    """The process's primary context on GPU 0, with the allocations and modules of one run,
    which are freed on exit (the context itself stays retained)."""

    def __init__(self) -> None:
        self.driver = _driver()
        self.device, self.context = _PRIMARY.acquire(self.driver)
        self.allocations: list = []
        self.modules: list = []

    def __enter__(self) -> _Gpu:
        return self

    def __exit__(self, exc_type, error, traceback) -> None:
        # Clean-up errors are ignored: the error that got us here is the one worth reporting.
        for allocation in self.allocations:
            self.driver.cuMemFree(allocation)
        for module in self.modules:
            self.driver.cuModuleUnload(module)
        if isinstance(error, CudaError) and error.name in STICKY_ERRORS:
            # Never cuDevicePrimaryCtxReset: it would free a co-resident torch's memory too.
            _PRIMARY.poison(error)
            error.args = (f"{error}; {RESTART_HINT}",)

    def functions(self, compiled: CompiledKernel, entries, use_cubin: bool) -> dict:
        # PTX (NUL-terminated) is JIT-compiled by the driver for a GPU newer than NVRTC.
        image = compiled.cubin if use_cubin else compiled.ptx.encode() + b"\0"
        module = _call(self.driver, "cuModuleLoadData", image)
        self.modules.append(module)
        return {e: _call(self.driver, "cuModuleGetFunction", module, e.encode()) for e in entries}

    def allow_dynamic_shared(self, functions: dict, launches: list[Launch]) -> None:
        """Opt each function in to its launch's dynamic shared memory above the 48 KiB default."""
        attribute = self.driver.CUfunction_attribute
        for launch in launches:
            if launch.dynamic_shared_bytes > DEFAULT_DYNAMIC_SHARED_LIMIT:
                _call(self.driver, "cuFuncSetAttribute", functions[launch.entry],
                      attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                      launch.dynamic_shared_bytes)

    def alloc(self, nbytes: int) -> int:
        pointer = _call(self.driver, "cuMemAlloc", max(nbytes, 4))
        self.allocations.append(pointer)
        return int(pointer)

    def upload(self, array: np.ndarray) -> int:
        array = np.ascontiguousarray(array)
        pointer = self.alloc(array.nbytes)
        _call(self.driver, "cuMemcpyHtoD", pointer, array.ctypes.data, array.nbytes)
        return pointer

    def download(self, pointer: int, like: np.ndarray) -> np.ndarray:
        _call(self.driver, "cuMemcpyDtoH", like.ctypes.data, pointer, like.nbytes)
        return like

    def launch_all(self, packed: list[_PackedLaunch], stream=0) -> None:
        for p in packed:
            # `packed` keeps p.params and p.holders alive while the driver reads them; no extra.
            _call(self.driver, "cuLaunchKernel", p.function, *p.launch.grid, *p.launch.block,
                  p.launch.dynamic_shared_bytes, stream, p.params.ctypes.data, 0)

    def timed(self, packed: list[_PackedLaunch], repeats: int) -> tuple[list[float], int]:
        """(seconds per iteration of all the launches, one per repeat; iterations per sample).

        One plain iteration (Python launching) gives an upper bound of the time, which sizes a
        graph; if a graph sample is still under TARGET_SAMPLE_SECONDS it is resized once."""
        driver = self.driver
        # Non-blocking: no implicit syncs with the legacy stream, which another thread (torch)
        # may use while we capture; the caller synchronizes the context before and after.
        stream = _call(driver, "cuStreamCreate",
                       int(driver.CUstream_flags.CU_STREAM_NON_BLOCKING))
        start = stop = None
        graphs: list[tuple[object, object]] = []
        try:
            start = _call(driver, "cuEventCreate", 0)
            stop = _call(driver, "cuEventCreate", 0)

            def elapsed(run) -> float:
                _call(driver, "cuEventRecord", start, stream)
                run()
                _call(driver, "cuEventRecord", stop, stream)
                _call(driver, "cuEventSynchronize", stop)
                return float(_call(driver, "cuEventElapsedTime", start, stop)) / 1e3

            iterations = iterations_for(elapsed(lambda: self.launch_all(packed, stream)))
            graph = self._capture(packed, stream, iterations, graphs)
            first = elapsed(lambda: _call(driver, "cuGraphLaunch", graph, stream))
            if first < TARGET_SAMPLE_SECONDS and iterations < MAX_GRAPH_ITERATIONS:
                iterations = iterations_for(first / iterations)
                graph = self._capture(packed, stream, iterations, graphs)
            samples = [elapsed(lambda: _call(driver, "cuGraphLaunch", graph, stream))
                       / iterations for _ in range(repeats)]
        finally:
            for executable, captured in graphs:
                driver.cuGraphExecDestroy(executable)
                driver.cuGraphDestroy(captured)
            for event in (start, stop):
                if event is not None:
                    driver.cuEventDestroy(event)
            driver.cuStreamDestroy(stream)
        return samples, iterations

    def _capture(self, packed: list[_PackedLaunch], stream, iterations: int,
                 graphs: list[tuple[object, object]]):
        """An instantiated graph of `iterations` copies of the launches (added to `graphs`)."""
        driver = self.driver
        mode = driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL
        _call(driver, "cuStreamBeginCapture", stream, mode)
        try:
            for _ in range(iterations):
                self.launch_all(packed, stream)
        except BaseException:
            ended = driver.cuStreamEndCapture(stream)  # leave capture mode; drop the graph
            if ended[0] == driver.CUresult.CUDA_SUCCESS and len(ended) > 1:
                driver.cuGraphDestroy(ended[1])
            raise
        captured = _call(driver, "cuStreamEndCapture", stream)
        try:
            executable = _call(driver, "cuGraphInstantiate", captured, 0)
        except BaseException:
            driver.cuGraphDestroy(captured)
            raise
        graphs.append((executable, captured))
        return executable


def input_element_bytes(problem: Problem) -> int:
    """Bytes per input element in HBM: 2 for the bf16 (tensor-core) kernels, else 4."""
    return 2 if getattr(problem.spec, "dtype", "fp32") == "bf16" else FLOAT_BYTES


def gpu_bytes_needed(problem: Problem) -> int:
    """Inputs, output and scratch; each input (A, B or Q, K, V) has the output's shape and the
    output is fp32."""
    inputs = 2 if problem.family == "matmul" else 3
    elements = math.prod(output_shape(problem))
    return (inputs * input_element_bytes(problem) + FLOAT_BYTES) * elements \
        + extra_memory_bytes(problem)


def check_launch_limits(launches: list[Launch], info: DeviceInfo) -> None:
    """ProblemError when a launch needs more shared memory than the device allows a block."""
    for launch in launches:
        if launch.shared_bytes > info.shared_limit:
            raise ProblemError(
                f"{launch.entry} needs {launch.shared_bytes:,} bytes of shared memory per block; "
                f"{info.name} allows {info.shared_limit:,}"
            )
        if launch.dynamic_shared_bytes > DEFAULT_DYNAMIC_SHARED_LIMIT and not info.max_shared_optin:
            raise ProblemError(
                f"{launch.entry} needs {launch.dynamic_shared_bytes:,} bytes of dynamic shared "
                f"memory; {info.name} does not allow more than "
                f"{DEFAULT_DYNAMIC_SHARED_LIMIT:,} without opting in"
            )


def run_on_gpu(
    problem: Problem,
    inputs: dict[str, np.ndarray],
    *,
    defines: dict[str, int] | None = None,
    repeats: int = 5,
    want_trace: bool = True,
) -> GpuRun:
    """Launch `problem` on GPU 0: output, median time of `repeats` samples, and a traced replay.

    Raises NoDevice, NvrtcMissing, CompileError, ProblemError, ContextPoisoned or CudaError.
    """
    status = device_status()
    info = status.info
    if not status.available or info is None:
        raise NoDevice(status.reason)
    check_problem(problem, GPU_MAX_N[problem.family])
    defines = defines or defines_for(problem, limits=shared_limits(info))
    launches = plan(problem, defines)
    check_launch_limits(launches, info)
    arch, use_cubin = device_arch()
    compiled = compile_kernel(problem.kernel, defines, arch=arch)
    if not use_cubin:
        check_ptx_fallback(info.driver_version, nvrtc_version(), info.arch, compiled.ptx)
    entries = problem.spec.entries
    notes: list[str] = []
    slots = sum(launch.blocks * launch.steps for launch in launches)
    if want_trace and slots > MAX_TRACE_SLOTS:
        notes.append(f"no trace: {slots:,} tile steps exceed the {MAX_TRACE_SLOTS:,} slot limit")
        want_trace = False

    with _Gpu() as gpu:
        free, _total = _call(gpu.driver, "cuMemGetInfo")
        needed = gpu_bytes_needed(problem) + (slots * SLOT_DTYPE.itemsize if want_trace else 0)
        if needed > int(free):
            raise ProblemError(
                f"needs {needed / 2**30:.2f} GiB of GPU memory; {int(free) / 2**30:.2f} GiB free"
            )
        buffers = {name: gpu.upload(array) for name, array in inputs.items()}
        output_name = "C" if problem.family == "matmul" else "O"
        output = np.empty(output_shape(problem), np.float32)
        buffers[output_name] = gpu.alloc(output.nbytes)
        if extra_memory_bytes(problem):
            buffers["S"] = gpu.alloc(extra_memory_bytes(problem))

        functions = gpu.functions(compiled, entries, use_cubin)
        gpu.allow_dynamic_shared(functions, launches)
        packed = _pack_launches(problem, launches, functions, buffers)
        gpu.launch_all(packed)  # warm-up: module load, caches, clocks
        _call(gpu.driver, "cuCtxSynchronize")
        samples, iterations = gpu.timed(packed, repeats)
        _call(gpu.driver, "cuCtxSynchronize")
        gpu.download(buffers[output_name], output)

        trace = None
        if want_trace:
            traced = compile_kernel(problem.kernel, defines, arch=arch, trace=True)
            traced_functions = gpu.functions(traced, entries, use_cubin)
            gpu.allow_dynamic_shared(traced_functions, launches)
            pointers = []
            for launch in launches:
                nbytes = launch.blocks * launch.steps * SLOT_DTYPE.itemsize
                pointer = gpu.alloc(nbytes)
                _call(gpu.driver, "cuMemsetD8", pointer, 0, nbytes)
                pointers.append(pointer)
            gpu.launch_all(_pack_launches(problem, launches, traced_functions, buffers, pointers))
            _call(gpu.driver, "cuCtxSynchronize")
            raw = []
            for launch, pointer in zip(launches, pointers, strict=True):
                raw.append(gpu.download(pointer, np.zeros(launch.blocks * launch.steps,
                                                          SLOT_DTYPE)))
            records = decode_trace_buffers(raw, clock_khz=info.clock_khz)
            trace = make_trace(problem, defines, launches, records, simulated=False,
                               device=info.name, sm_count=info.sm_count)
    return GpuRun(output, statistics.median(samples), samples, trace, compiled, notes,
                  iterations)
