"""`microgpt-tui kernels doctor`: can this machine compile and run the kernels, and how?

`diagnose()` reports the NVIDIA driver (or its absence), NVRTC, GPU 0 (name, arch, SMs, shared
memory limits), whether the kernels load as CUBIN for the exact arch or as PTX for the driver to
JIT, every kernel's compile figures (registers, spills), and a one-line verdict. `gpu_check()`
runs every kernel on the GPU against the reference (the simulator's numpy reference, execute's
tolerance) and checks its trace against the CPU twin's steps. Nothing here imports textual:
the check runs where the project is installed with `pip install --no-deps`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from . import runtime
from .catalog import KERNELS, Problem, ProblemError, defines_for
from .runtime import (
    MIN_DRIVER_BRANCH,
    MIN_DRIVER_VERSION,
    KernelError,
    NoDevice,
    check_ptx_fallback,
    choose_arch,
    compile_kernel,
    driver_too_old_message,
    driver_version,
    format_cuda_version,
    nvrtc_version,
    shared_limits,
)


@dataclass
class KernelCompile:
    kernel: str
    ok: bool
    arch: str = ""
    seconds: float = 0.0
    entries: dict[str, dict[str, int]] = field(default_factory=dict)
    error: str = ""

    @property
    def spills(self) -> int:
        return sum(e["spill_stores"] + e["spill_loads"] for e in self.entries.values())


@dataclass
class Diagnosis:
    driver_version: int | None  # cuDriverGetVersion, None with no driver library
    driver: str  # "CUDA 13.0" or "no driver" or "too old: …"
    nvrtc: str  # "13.5" or the install hint
    device: dict | None  # name, arch, sm_count, shared limits, clock; None without a GPU
    device_reason: str  # why there is no usable device ("" when there is one)
    arch: int | None  # what NVRTC compiles for
    code: str  # "CUBIN sm_90" or "PTX compute_… JIT-compiled by the driver"
    kernels: list[KernelCompile]
    verdict: str
    ok: bool  # the kernels compile (and, with a GPU, can launch)
    gpu: bool  # kernels would run on a GPU here

    def record(self) -> dict:
        return asdict(self)


def _device_dict(info) -> dict:
    return {
        "name": info.name, "arch": f"sm_{info.arch}", "sm_count": info.sm_count,
        "max_shared_per_block": info.max_shared_per_block,
        "max_shared_optin": info.max_shared_optin, "clock_mhz": info.clock_khz // 1000,
    }


def diagnose(compile_kernels: bool = True) -> Diagnosis:
    """Everything `kernels doctor` prints, with no GPU launch."""
    version = driver_version()
    if version is None:
        driver = "no driver"
    elif version < MIN_DRIVER_VERSION:
        driver = f"CUDA {format_cuda_version(version)} (too old: need "
        driver += f"{format_cuda_version(MIN_DRIVER_VERSION)}+, {MIN_DRIVER_BRANCH}+)"
    else:
        driver = f"CUDA {format_cuda_version(version)}"
    try:
        major, minor = nvrtc_version()
        nvrtc = f"{major}.{minor}"
        nvrtc_ok = True
    except KernelError as error:
        nvrtc, nvrtc_ok = str(error), False
    status = runtime.device_status()  # looked up each time: the tests' fake replaces it
    info = status.info if status.available else None
    arch: int | None = None
    code = "none (NVRTC missing)"
    problems: list[str] = []
    if nvrtc_ok:
        try:
            arch, use_cubin = choose_arch(info.arch if info else None)
            if use_cubin:
                code = f"CUBIN sm_{arch}" + ("" if info is None or info.arch == arch
                                             else f" (runs on sm_{info.arch})")
            else:
                assert info is not None  # choose_arch(None) always gives CUBIN
                code = f"PTX for sm_{arch}, JIT-compiled by the driver for sm_{info.arch}"
                check_ptx_fallback(info.driver_version, nvrtc_version(), info.arch)
        except KernelError as error:
            problems.append(str(error))
    kernels: list[KernelCompile] = []
    if nvrtc_ok and compile_kernels and arch is not None:
        for name in KERNELS:
            problem = Problem(name, 64, 64)
            start = time.perf_counter()
            try:
                limits = shared_limits(info) if info is not None else None
                compiled = compile_kernel(name, defines_for(problem, limits=limits), arch=arch)
            except KernelError as error:
                kernels.append(KernelCompile(name, False, error=str(error).splitlines()[0]))
                continue
            kernels.append(KernelCompile(
                name, True, compiled.arch_name, time.perf_counter() - start,
                {entry: {"registers": r.registers, "shared_bytes": r.shared_bytes,
                         "spill_stores": r.spill_stores, "spill_loads": r.spill_loads}
                 for entry, r in compiled.resources.items()}))
    failed = [k.kernel for k in kernels if not k.ok]
    spilling = [k.kernel for k in kernels if k.ok and k.spills]
    if not nvrtc_ok:
        problems.append("NVRTC is missing: nothing can compile")
    if failed:
        problems.append(f"{len(failed)} kernel(s) do not compile: {', '.join(failed)}")
    if version is not None and version < MIN_DRIVER_VERSION:
        problems.append(driver_too_old_message(version))
    ok = not problems
    if not ok:
        verdict = "NOT READY: " + "; ".join(problems)
    elif info is not None:
        verdict = (f"READY: {len(kernels)} kernels compile for {code} and run on {info.name}"
                   + (f" (spills in {', '.join(spilling)})" if spilling else ""))
    else:
        verdict = (f"SIMULATED: kernels compile ({code}) but nothing can launch here "
                   f"({status.reason or 'no GPU'}); the CPU twin stands in")
    return Diagnosis(
        driver_version=version, driver=driver, nvrtc=nvrtc,
        device=_device_dict(info) if info else None,
        device_reason="" if info else (status.reason or "no GPU"),
        arch=arch, code=code, kernels=kernels, verdict=verdict, ok=ok, gpu=info is not None,
    )


def diagnosis_text(d: Diagnosis) -> str:
    lines = [f"driver  {d.driver}", f"NVRTC   {d.nvrtc}"]
    if d.device:
        dev = d.device
        lines.append(f"device  {dev['name']} ({dev['arch']}, {dev['sm_count']} SMs, "
                     f"{dev['clock_mhz']} MHz), shared memory per block "
                     f"{dev['max_shared_per_block'] // 1024} KiB, "
                     f"{dev['max_shared_optin'] // 1024} KiB opted in")
    else:
        lines.append(f"device  none ({d.device_reason})")
    lines.append(f"code    {d.code}")
    for k in d.kernels:
        if not k.ok:
            lines.append(f"  ✗ {k.kernel:<26} {k.error}")
            continue
        figures = ", ".join(f"{entry} {e['registers']} regs"
                            + (f" {e['spill_stores'] + e['spill_loads']} B spilled"
                               if e["spill_stores"] + e["spill_loads"] else "")
                            for entry, e in k.entries.items())
        lines.append(f"  ✓ {k.kernel:<26} {figures}")
    lines.append(d.verdict)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# --gpu-check: every kernel on the GPU against the reference


def check_problems() -> list[Problem]:
    """Odd sizes (partial tiles), causal and not, several heads: every kernel of the catalog,
    through each of its load paths — n = 264 keeps matmul_tc's rows 16-byte aligned (its
    vector loads) where 257 does not; d = 128 needs shared memory above 48 KiB on Hopper,
    d = 36 is not a multiple of 8 (the tensor-core kernel's element loads, the fp32 kernel's
    padded V columns)."""
    problems = []
    for name, spec in KERNELS.items():
        if spec.family == "matmul":
            problems += [Problem(name, 257), Problem(name, 264)]
        else:
            problems += [Problem(name, 257, 64, causal=True, heads=2),
                         Problem(name, 100, 64, causal=False, heads=3),
                         Problem(name, 200, 128, causal=True),
                         Problem(name, 100, 36)]
    return problems


@dataclass
class KernelRun:
    problem: str
    ok: bool
    max_error: float | None = None
    tolerance: float | None = None
    seconds: float | None = None
    trace_ok: bool | None = None
    error: str = ""


def gpu_check(progress=None) -> list[KernelRun]:
    """Run every kernel on GPU 0 and check output and trace. NoDevice without a GPU."""
    from .execute import execute
    from .sim import make_inputs, simulate

    status = runtime.device_status()  # looked up each time: the tests' fake replaces it
    if not status.available:
        raise NoDevice(f"--gpu-check needs a GPU: {status.reason or 'none found'}")
    runs: list[KernelRun] = []
    for problem in check_problems():
        label = problem.describe()
        if progress:
            progress(label)
        try:
            result = execute(problem, repeats=3, compare_peer=False, want_trace=True)
            trace_ok = None
            if result.trace is not None:
                # The GPU's tiles (sized for its shared memory), not the simulator's defaults.
                sim = simulate(problem, make_inputs(problem), defines=result.defines).trace
                gpu_steps = sorted((r.launch, r.block, r.step) for r in result.trace.records)
                sim_steps = sorted((r.launch, r.block, r.step) for r in sim.records)
                trace_ok = gpu_steps == sim_steps and all(
                    r.end_ns >= r.start_ns for r in result.trace.records)
            runs.append(KernelRun(label, result.ok and trace_ok is not False, result.max_error,
                                  result.tolerance, result.seconds, trace_ok))
        except (KernelError, ProblemError) as error:
            runs.append(KernelRun(label, False, error=str(error)))
    return runs
