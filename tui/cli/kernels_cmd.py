"""`microgpt-tui kernels`: list, compile (NVRTC) and run the CUDA kernels, or simulate them."""

from __future__ import annotations

from .output import CLIError, CommandFailed, Output, seed_type

HELP = (
    "The CUDA kernels of question 6. 'list' shows them; 'compile NAME' compiles one with NVRTC "
    "(no GPU needed) and prints ptxas' registers, shared memory and spills; 'run NAME' launches "
    "it on the GPU, or on the CPU simulator (labelled SIMULATED) when there is no GPU or with "
    "--sim, checks it against numpy, and can write a Chrome/Perfetto trace. 'doctor' says whether "
    "this machine can compile and launch them (driver, NVRTC, device, CUBIN or PTX, each kernel's "
    "registers and spills) in one verdict; 'doctor --gpu-check' also runs every kernel on the GPU "
    "against the reference, then the kernel benchmark, and prints one summary."
)
GPU_CHECK_BENCH_ROUNDS = 3  # keeps `doctor --gpu-check` within 8 minutes on an H100/H200


def add_arguments(parser) -> None:
    parser.add_argument("action", choices=("list", "compile", "run", "doctor"), help="what to do")
    parser.add_argument("name", nargs="?", metavar="NAME", help="kernel name (see 'list')")
    parser.add_argument("--n", type=int, help="matrix size n, or sequence length N (default 256)")
    parser.add_argument("--d", type=int, default=64, help="attention head dimension (default 64)")
    parser.add_argument("--heads", type=int, default=1, help="attention batch·heads (default 1)")
    parser.add_argument("--causal", action="store_true", help="causal attention mask")
    parser.add_argument("--sim", action="store_true", help="use the CPU simulator even on a GPU")
    parser.add_argument("--trace", metavar="OUT.json", help="write a Chrome trace (Perfetto)")
    parser.add_argument("--seed", type=seed_type, default=0, help="input seed (default 0)")
    parser.add_argument("--repeats", type=int, default=5, help="timed GPU runs (default 5)")
    parser.add_argument("--arch", help="compile for this arch, e.g. sm_80 (default: GPU or sm_90)")
    parser.add_argument("--traced", action="store_true", help="compile with -DMICROGPT_TRACE")
    parser.add_argument("--log", action="store_true", help="print the full compile log")
    parser.add_argument("--ptx", action="store_true", help="print the PTX")
    parser.add_argument("--gpu-check", action="store_true",
                        help="doctor: run every kernel on the GPU, then the benchmark")


def run(args, out: Output) -> int:
    from ...kernels.catalog import KERNELS, ProblemError, find_kernel

    if args.action == "list":
        for spec in KERNELS.values():
            defines = " ".join(f"{k}={v}" for k, v in spec.defines.items())
            out.emit(
                {"kernel": spec.name, "family": spec.family, "entries": list(spec.entries),
                 "defines": spec.defines, "source": spec.source, "summary": spec.summary},
                f"{spec.name:<24} {spec.family:<9} {spec.summary}"
                + (f"\n{'':<34}macros: {defines}" if defines else ""),
            )
        return 0
    if args.action == "doctor":
        return _doctor(args, out)
    if not args.name:
        raise CLIError(f"'{args.action}' needs a kernel NAME; choose from {', '.join(KERNELS)}")
    from ...kernels.runtime import CompileError, KernelError

    try:
        find_kernel(args.name)
        if args.action == "compile":
            return _compile(args, out)
        return _run(args, out)
    except ProblemError as error:
        raise CLIError(str(error)) from None
    except CompileError as error:
        out.notice(error.log)
        raise CLIError(str(error)) from None
    except KernelError as error:  # NoDevice, NvrtcMissing, CudaError, …: each says what failed
        raise CLIError(str(error)) from None


def _problem(args):
    from ...kernels.catalog import KERNELS, Problem

    n = args.n if args.n is not None else 256
    if KERNELS[args.name].family == "matmul" and (args.causal or args.heads != 1):
        raise CLIError("--causal and --heads apply to attention kernels only")
    return Problem(args.name, n, args.d, args.causal, args.heads)


def _parse_arch(text: str | None) -> int | None:
    if text is None:
        return None
    digits = text.lower().removeprefix("sm_").removeprefix("compute_")
    if not digits.isdigit():
        raise CLIError(f"--arch {text!r}: expected something like sm_90")
    return int(digits)


def _compile(args, out: Output) -> int:
    from ...kernels.catalog import check_problem, defines_for, plan
    from ...kernels.runtime import compile_kernel, device_arch

    problem = _problem(args)
    check_problem(problem, 1 << 30)
    arch = _parse_arch(args.arch)
    if arch is None:
        arch = device_arch()[0]
    # compile_kernel rejects an arch this NVRTC lacks, naming the ones it supports.
    compiled = compile_kernel(args.name, defines_for(problem), arch=arch, trace=args.traced)
    lines = [
        f"{args.name}: {compiled.arch_name}, {len(compiled.cubin):,} bytes of CUBIN, "
        f"{'from the cache' if compiled.from_cache else f'{compiled.compile_seconds:.2f} s'}",
        f"options: {' '.join(compiled.options)}",
    ]
    # ptxas counts static shared memory only; the flash kernels' is dynamic, sized at launch.
    dynamic = {launch.entry: launch.dynamic_shared_bytes for launch in plan(problem)}
    for entry, res in compiled.resources.items():
        extra = f" + {dynamic[entry]:,} B dynamic" if dynamic.get(entry) else ""
        lines.append(
            f"  {entry:<24} {res.registers:>3} registers  {res.shared_bytes:>6,} B shared{extra}  "
            f"{res.spill_stores} B spill stores  {res.spill_loads} B spill loads"
        )
    if args.log:
        lines.append(compiled.log.rstrip())
    if args.ptx:
        lines.append(compiled.ptx.rstrip())
    out.emit(
        {
            "kernel": args.name,
            "arch": compiled.arch_name,
            "options": compiled.options,
            "cubin_bytes": len(compiled.cubin),
            "from_cache": compiled.from_cache,
            "compile_seconds": compiled.compile_seconds,
            "resources": {
                entry: {"registers": r.registers, "shared_bytes": r.shared_bytes,
                        "dynamic_shared_bytes": dynamic.get(entry, 0),
                        "spill_stores": r.spill_stores, "spill_loads": r.spill_loads}
                for entry, r in compiled.resources.items()
            },
            "log": compiled.log if args.log else None,
            "ptx": compiled.ptx if args.ptx else None,
        },
        "\n".join(lines),
    )
    return 0


def _run(args, out: Output) -> int:
    from ...kernels.execute import execute

    problem = _problem(args)
    if not 1 <= args.repeats <= 1000:
        raise CLIError("--repeats must be between 1 and 1000")
    if args.trace is not None:
        from ...engine.files import WriteRefused, ensure_writable_target

        try:  # before the run: a bad --trace never wastes it
            ensure_writable_target(args.trace)
        except WriteRefused as error:
            raise CLIError(f"{args.trace or '--trace'}: cannot write ({error.strerror})") from None
    result = execute(problem, simulate_only=args.sim, want_trace=args.trace is not None,
                     seed=args.seed, repeats=args.repeats)
    if result.simulated:
        out.notice(f"SIMULATED: {result.label.removeprefix('SIMULATED — ')}; "
                   "the CPU twin ran the same tiles, times are a model")
    if args.trace:
        if result.trace is None:
            raise CLIError("no trace was recorded: " + "; ".join(result.notes))
        try:
            result.trace.write_chrome(args.trace)
        except OSError as error:
            raise CLIError(f"{args.trace}: cannot write ({error.strerror or error})") from None
    out.emit(result.record(), _run_text(result, args.trace))
    return 0 if result.ok else 1


def _run_text(result, trace_path: str | None) -> str:
    from ..kit.format import format_value

    check = "✓" if result.ok else "✗"
    lines = [
        f"{result.problem.describe()} on {result.label}",
        f"check against numpy: {check} max |error| {result.max_error:.2e} "
        f"(tolerance {result.tolerance:.1e})",
    ]
    if result.seconds is not None:
        lines.append(f"time {format_value(result.seconds, 's')}, {result.gflops:,.1f} GFLOP/s")
        if result.percent_of_peer is not None:
            lines.append(f"{result.percent_of_peer:.0f}% of {result.peer_name} "
                         f"({format_value(result.peer_seconds, 's')})")
    else:
        lines.append(f"SIMULATED: no GPU time; the CPU twin took "
                     f"{format_value(result.wall_seconds, 's')}, simulated clock "
                     f"{result.trace.duration_ns / 1e3:,.1f} µs")
    if result.hbm_bytes is not None:
        lines.append(f"HBM↔SRAM traffic {result.hbm_bytes / 2**20:,.2f} MiB; extra HBM "
                     f"{result.extra_memory_bytes / 2**20:,.2f} MiB")
    if trace_path:
        lines.append(f"trace: {len(result.trace.records):,} tile steps → {trace_path} "
                     "(open in ui.perfetto.dev)")
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


def _doctor(args, out: Output) -> int:
    import time

    from ...kernels.doctor import diagnose, diagnosis_text
    from ...kernels.runtime import device_status

    started = time.perf_counter()
    if args.gpu_check and not device_status().available:
        raise CommandFailed(f"--gpu-check needs a GPU: {device_status().reason or 'none found'}")
    diagnosis = diagnose()
    out.emit({"doctor": diagnosis.record()}, diagnosis_text(diagnosis))
    if not args.gpu_check:
        return 0 if diagnosis.ok else 1
    return _gpu_check(out, started) if diagnosis.ok else 1


def _gpu_check(out: Output, started: float) -> int:
    import time
    from dataclasses import asdict

    from ...kernels.doctor import gpu_check
    from ..bench.kernels import run as run_bench

    runs = gpu_check(progress=lambda label: out.notice(f"checking {label} on the GPU…"))
    for run in runs:
        if run.error:
            text = f"  ✗ {run.problem}: {run.error}"
        else:
            text = (f"  {'✓' if run.ok else '✗'} {run.problem}: max |error| {run.max_error:.1e} "
                    f"(tolerance {run.tolerance:.1e}), trace "
                    f"{'n/a' if run.trace_ok is None else 'ok' if run.trace_ok else 'WRONG'}")
        out.emit({"gpu_check": asdict(run)}, text)
    out.notice("running the kernel benchmark…")
    results = run_bench(GPU_CHECK_BENCH_ROUNDS)
    for result in results:
        out.emit(result.record("kernels"), result.line("kernels"))
    correct = sum(run.ok for run in runs)
    judged = [r for r in results if r.met is not None]
    met = sum(bool(r.met) for r in judged)
    summary = {
        "kernels_correct": correct, "kernels_checked": len(runs),
        "goals_met": met, "goals": len(judged), "seconds": time.perf_counter() - started,
    }
    out.emit({"summary": summary},
             f"gpu-check: {correct}/{len(runs)} kernel runs match the reference; benchmark goals "
             f"met {met}/{len(judged)}; {summary['seconds']:.0f} s")
    return 0 if correct == len(runs) else 1
