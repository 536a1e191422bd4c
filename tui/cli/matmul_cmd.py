"""`microgpt-tui matmul`: race the matmul algorithms at one size, or count their cache misses."""

from __future__ import annotations

import math
import sys

from ...engine.matmul import cache_model
from ...engine.matmul.blas import blas_info, limit_threads
from ...engine.matmul.measure import PEAK_N, machine_peak
from ...engine.matmul.race import ALGORITHMS, DEFAULT_TILE, MAX_N, Result, run_algorithm
from .output import CLIError, Output, progress_bar, seed_type
from .pi_cmd import parse_count

HELP = (
    "Multiply two seeded n×n matrices with each algorithm — the seed's i-j-k triple loop, the "
    "i-k-j order, cache-blocked loops, numpy tiles, Strassen and BLAS — and report the time, "
    "GFLOP/s, the fraction of this machine's peak (a BLAS run at n = 2048) and the error "
    "against float64. Pure-Python loops beyond n = 256 are estimated from an n³ fit. With "
    "--cache-sim, replay the loops' memory accesses through a model of this machine's L1 and "
    "L2 caches and count hits and misses per matrix."
)

CACHE_SIM_N, CACHE_SIM_TILE = cache_model.DEMO_N, cache_model.DEMO_TILE


def add_arguments(parser) -> None:
    parser.add_argument("--n", metavar="N", help=f"matrix size (default 512; at most {MAX_N}, "
                        f"{cache_model.MAX_N} with --cache-sim, where the default is "
                        f"{CACHE_SIM_N})")
    parser.add_argument("--algo", choices=[*ALGORITHMS, "all"], help="which algorithm "
                        "(default all)")
    parser.add_argument("--tile", metavar="T", help=f"tile size for blocked and tiled "
                        f"(default {DEFAULT_TILE}; {CACHE_SIM_TILE} with --cache-sim)")
    parser.add_argument("--cutoff", metavar="C", help="Strassen: sizes at or below C go to "
                        "BLAS (default: Strassen's own)")
    parser.add_argument("--threads", metavar="N", help="BLAS threads (default: all)")
    parser.add_argument("--dtype", choices=("f64", "f32"), help="float64 (default) or float32")
    parser.add_argument("--seed", dest="matmul_seed", type=seed_type, metavar="S",
                        help="input seed (default: the app's --seed)")
    parser.add_argument("--cache-sim", action="store_true",
                        help="count cache hits and misses of naive, i-k-j and blocked loops")


def run(args, out: Output) -> int:
    if args.cache_sim:
        return _cache_sim(args, out)
    n = parse_count(args.n or "512", "--n", MAX_N)
    tile = parse_count(args.tile or str(DEFAULT_TILE), "--tile", MAX_N)
    cutoff = None if args.cutoff is None else parse_count(args.cutoff, "--cutoff", MAX_N)
    threads = None if args.threads is None else parse_count(args.threads, "--threads", 1024)
    names = list(ALGORITHMS) if args.algo in (None, "all") else [args.algo]
    dtype = args.dtype or "f64"
    seed = args.matmul_seed if args.matmul_seed is not None else args.seed
    try:
        with limit_threads(threads):
            info = blas_info()  # as the runs will see it: the thread count after --threads
    except ValueError as error:
        raise CLIError(str(error)) from None
    out.text(f"{n}×{n} {dtype}, seed {seed} · BLAS: {info.describe()}")
    if info.forced_by:
        out.text(f"note: {info.forced_by} chooses the BLAS kernel, not the library")
    done: list[Result] = []
    show = out.shows_progress
    try:
        peak = machine_peak(dtype, threads)
        out.text(f"peak: {peak:.1f} GFLOP/s (BLAS at n = {PEAK_N}, best of ~1 s)\n")
        out.text(f"{'algorithm':<15}{'seconds':>12}{'GFLOP/s':>11}{'of peak':>10}{'error':>11}")
        for name in names:
            report = (lambda fraction, name=name: _show_progress(name, fraction)) if show else None
            result = run_algorithm(name, n, dtype, threads, seed, tile, cutoff,
                                   progress=report, peak=peak)
            if show:
                _clear_progress()
            done.append(result)
            out.emit({**result.to_dict(), "peak_gflops": peak}, _row(result))
    except KeyboardInterrupt:
        if show:
            _clear_progress()
        out.notice(f"cancelled: {len(done)} of {len(names)} algorithms finished")
        return 130
    except ValueError as error:
        raise CLIError(str(error)) from None
    if any(result.estimated for result in done):
        out.text(f"\nest. = estimated from an n³ fit of runs at smaller n (beyond n = "
                 f"{ALGORITHMS['naive'].max_n} pure Python is not run)")
    return 0


def _row(result: Result) -> str:
    label = ALGORITHMS[result.algo].label
    seconds = f"{result.seconds:.3g}" + (" est." if result.estimated else "")
    error = "—" if result.error is None else f"{result.error:.1e}"
    share = result.fraction_of_peak
    of_peak = f"{100 * share:.3g}%" if math.isfinite(share) else "—"
    return f"{label:<15}{seconds:>12}{result.gflops:>11.3g}{of_peak:>10}{error:>11}"


def _show_progress(name: str, fraction: float) -> None:
    sys.stderr.write(f"\r{progress_bar(int(fraction * 1000), 1000)} {name}")
    sys.stderr.flush()


def _clear_progress() -> None:
    sys.stderr.write("\r" + " " * 79 + "\r")
    sys.stderr.flush()


def _cache_sim(args, out: Output) -> int:
    ignored = [option for option, value in (("--algo", args.algo), ("--cutoff", args.cutoff),
                                            ("--threads", args.threads), ("--dtype", args.dtype),
                                            ("--seed", args.matmul_seed))
               if value is not None]
    if ignored:
        raise CLIError(f"--cache-sim takes --n and --tile only, not {ignored[0]}")
    n = parse_count(args.n or str(CACHE_SIM_N), "--n", cache_model.MAX_N)
    tile = parse_count(args.tile or str(CACHE_SIM_TILE), "--tile", n)
    levels = cache_model.machine_levels()
    matrix_kib = n * n * cache_model.ELEMENT_BYTES / 1024
    out.text(f"cache model: {n}×{n} float64 (A, B, C {matrix_kib:g} KiB each), tile {tile}")
    out.text("caches: " + "; ".join(level.describe() for level in levels))
    out.text(f"\n{'loop':<8}{'level':<6}{'hits':>12}{'misses':>11}{'miss %':>8}"
             f"{'A misses':>10}{'B misses':>10}{'C misses':>10}")
    show = out.shows_progress
    try:
        for loop in cache_model.LOOPS:
            report = (lambda fraction, loop=loop: _show_progress(loop, fraction)) if show else None
            result = cache_model.simulate(loop, n, tile, levels, progress=report)
            if show:
                _clear_progress()
            record = {**result.to_dict(), "caches": [
                {"level": level.name, "size": level.size, "line": level.line,
                 "ways": level.ways} for level in levels]}
            out.emit(record, "\n".join(_cache_row(loop, counts) for counts in result.levels))
    except KeyboardInterrupt:
        if show:
            _clear_progress()
        out.notice("cancelled")
        return 130
    return 0


def _cache_row(loop: str, counts: cache_model.LevelCounts) -> str:
    a, b, c = counts.misses
    return (f"{loop:<8}{counts.level:<6}{counts.total_hits:>12,}{counts.total_misses:>11,}"
            f"{100 * counts.miss_rate:>8.2f}{a:>10,}{b:>10,}{c:>10,}")
