"""The Matmul screen's view-model: the race's settings and every result so far, the work a race
job runs, what the race view and the explanation panel say. No widgets here.

Results are kept by settings (dtype, BLAS threads), algorithm and n, so the race view shows the
results at the n chosen now and the complexity chart every n measured with the same settings.
The work functions call `peak_gflops` and `measure` through this module, so a test can stand in
for the clock (snapshots must never show measured times).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from rich.text import Text
from textual.content import Content

from ...engine.matmul.blas import BlasInfo, blas_info
from ...engine.matmul.measure import machine_peak
from ...engine.matmul.race import ALGORITHMS, FIT_SIZES, PURE_PYTHON_MAX_N, Result, run_algorithm
from ..kit.format import format_value
from ..kit.jobs import JobContext
from ..kit.tabs import tabs_line as views_line
from .matmul_chart import Series

VIEWS = ("race", "tiling", "strassen", "complexity")
VIEW_TITLES = {"race": "Race", "tiling": "Tiling", "strassen": "Strassen",
               "complexity": "Complexity"}
SIZES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)  # what +/- walk through
DEFAULT_N = 256  # the pure-Python loops still run for real (about a second each)
SWEEP_FROM = 32  # a sweep times every size from here up to the chosen n
METRICS = ("time", "GFLOP/s", "% of peak", "error")
PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉"  # a bar's last cell, in eighths
DTYPE_WORDS = {"f64": "float64", "f32": "float32"}



@dataclass(frozen=True)
class RaceSettings:
    n: int = DEFAULT_N
    dtype: str = "f64"
    all_threads: bool = True

    @property
    def threads(self) -> int | None:
        """The BLAS thread limit a run gets: None leaves the library's own (all cores)."""
        return None if self.all_threads else 1

    @property
    def key(self) -> tuple[str, bool]:
        return self.dtype, self.all_threads

    def resized(self, delta: int) -> RaceSettings:
        index = min(max(SIZES.index(self.n) + delta, 0), len(SIZES) - 1)
        return replace(self, n=SIZES[index])

    def sweep_sizes(self) -> tuple[int, ...]:
        return tuple(n for n in SIZES if SWEEP_FROM <= n <= self.n) or (self.n,)

    @property
    def conditions(self) -> str:
        threads = "all threads" if self.all_threads else "1 thread"
        return f"{DTYPE_WORDS[self.dtype]} · BLAS {threads}"

    def describe(self) -> str:
        return f"n = {self.n} · {self.conditions}"


@dataclass(frozen=True)
class Running:
    """Progress of a race: `algo` at `n` (None: measuring the machine's peak first)."""

    algo: str | None
    n: int
    fraction: float


@dataclass(frozen=True)
class Peak:
    key: tuple[str, bool]
    gflops: float


class RaceBook:
    """Every result so far: (dtype, all threads) → algorithm → n → Result; and the peaks."""

    def __init__(self) -> None:
        self._results: dict[tuple[str, bool], dict[str, dict[int, Result]]] = {}
        self.peaks: dict[tuple[str, bool], float] = {}

    def add(self, key: tuple[str, bool], result: Result) -> None:
        self._results.setdefault(key, {}).setdefault(result.algo, {})[result.n] = result

    def at(self, settings: RaceSettings, algo: str) -> Result | None:
        return self._results.get(settings.key, {}).get(algo, {}).get(settings.n)

    def series(self, settings: RaceSettings) -> dict[str, list[Result]]:
        """Each algorithm's results at these settings, by n."""
        found = self._results.get(settings.key, {})
        return {algo: [found[algo][n] for n in sorted(found[algo])]
                for algo in ALGORITHMS if found.get(algo)}

    def count(self, settings: RaceSettings) -> int:
        return sum(len(results) for results in self.series(settings).values())


# --- the work (a job's thread) ----------------------------------------------------------------


def machine_blas() -> BlasInfo:
    """The BLAS behind numpy's @ (library, kernel, threads), read once when the screen opens."""
    return blas_info()


def peak_gflops(dtype: str, threads: int | None) -> float:
    return machine_peak(dtype, threads)


def measure(job: JobContext, algo: str, n: int, settings: RaceSettings, seed: int, peak: float,
            progress: Callable[[float], None]) -> Result:
    """One algorithm at n. The plain-Python loops (and numpy tiles, a Python loop over tiles)
    run in a worker process: on the job's thread they would hold the GIL that every key needs.
    The BLAS-bound ones run here, stopping at a cancel."""
    dtype, threads = settings.dtype, settings.threads
    if ALGORITHMS[algo].pure_python or algo == "tiled":  # tiled: a Python loop over tiles
        return job.in_process(partial(run_algorithm, algo, n, dtype, threads, seed, peak=peak))
    return run_algorithm(algo, n, dtype, threads, seed, cancel=job.is_set, progress=progress,
                         peak=peak)


def race_work(settings: RaceSettings, sizes: Sequence[int], seed: int
              ) -> Callable[[JobContext], int]:
    """A job's work: the peak, then every algorithm at each size; each Result is reported as it
    comes (the job keeps every report), the count of results returned."""
    names = list(ALGORITHMS)
    total = len(sizes) * len(names)

    def work(job: JobContext) -> int:
        job.report(Running(None, sizes[0], 0.0))
        peak = peak_gflops(settings.dtype, settings.threads)
        job.report(Peak(settings.key, peak))
        for index in range(total):
            n, algo = sizes[index // len(names)], names[index % len(names)]
            job.report(Running(algo, n, index / total))

            def share(fraction: float, index: int = index, algo: str = algo, n: int = n) -> None:
                job.report(Running(algo, n, (index + fraction) / total))

            job.report(measure(job, algo, n, settings, seed, peak, share))
        return total

    return work


# --- what the views draw ------------------------------------------------------------------------


def tabs_line(current: str) -> Content:
    return views_line([VIEW_TITLES[name] for name in VIEWS], VIEWS.index(current))


def chart_series(book: RaceBook, settings: RaceSettings) -> list[Series]:
    """Each algorithm timed with these settings, marked 1…6 in the race's order."""
    marks = {algo: str(index) for index, algo in enumerate(ALGORITHMS, start=1)}
    return [Series(marks[algo], ALGORITHMS[algo].label,
                   tuple((r.n, r.seconds, r.estimated) for r in results))
            for algo, results in book.series(settings).items()]


def chart_note(settings: RaceSettings) -> str:
    sweep = settings.sweep_sizes()
    return (f"Nothing timed yet with these settings: r times every algorithm at n = "
            f"{settings.n}, s sweeps n = {sweep[0]} … {sweep[-1]}.")


def chart_caption(settings: RaceSettings) -> Content:
    return Content.assemble(("time against n", "bold"), ", log-log · ", settings.conditions)



def bar(fraction: float, width: int) -> str:
    """A bar `fraction` (0 … 1) of `width` cells long, in eighths of a cell."""
    eighths = round(min(max(fraction, 0.0), 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (PARTIAL_BLOCKS[part] if part else "")).ljust(width)


def metric_value(result: Result, metric: str) -> float | None:
    if metric == "time":
        return result.seconds
    if metric == "GFLOP/s":
        return result.gflops
    if metric == "% of peak":
        return result.fraction_of_peak
    return result.error


def bar_fractions(results: dict[str, Result], metric: str) -> dict[str, float]:
    """Each result's bar as a fraction of the longest: log scale for time, GFLOP/s and error
    (they span many decades), linear for the share of peak (0 … 100%)."""
    values = {algo: metric_value(r, metric) for algo, r in results.items()}
    usable = {a: v for a, v in values.items() if v is not None and math.isfinite(v) and v > 0}
    if metric == "% of peak":
        return {a: min(v, 1.0) for a, v in usable.items()}
    if not usable:
        return {}
    high = math.log10(max(usable.values()))
    low = min(math.log10(min(usable.values())), high) - 1  # the smallest still shows a bar
    return {a: (math.log10(v) - low) / (high - low) for a, v in usable.items()}


def seconds_text(result: Result) -> str:
    text = format_value(result.seconds, "s")
    return f"~{text}" if result.estimated else text


def rate_text(gflops: float) -> str:
    """GFLOP/s in four characters or so: 0.052, 3.41, 41.3, 215."""
    if not math.isfinite(gflops):
        return "—"
    return f"{gflops:.0f}" if gflops >= 100 else f"{gflops:.3g}" if gflops >= 1 else (
        f"{gflops:.2g}")


def share_text(fraction: float) -> str:
    """A share of the peak: 98%, 5.2%, 0.03%."""
    if not math.isfinite(fraction):
        return "—"
    percent = 100 * fraction
    return f"{percent:.0f}%" if percent >= 10 else f"{percent:.2g}%"


def error_text(result: Result) -> str:
    if result.error is None:
        return "—"
    return "0" if result.error == 0 else f"{result.error:.1e}"


def race_table(book: RaceBook, settings: RaceSettings, metric: str, width: int,
               running: Running | None) -> Content:
    """The race table: a header, a row per algorithm (bar, time, GFLOP/s, % of peak, error)."""
    bar_width = max(width - 51, 6)
    results = {a: r for a in ALGORITHMS if (r := book.at(settings, a)) is not None}
    fractions = bar_fractions(results, metric)
    scale = "" if metric == "% of peak" else " (log)"
    lines = [Content.styled(f"{'algorithm':<14}{(metric + scale):<{bar_width + 1}}"
                            f"{'time':>9}{'GFLOP/s':>9}{'peak':>7}{'error':>9}", "bold")]
    for algo, algorithm in ALGORITHMS.items():
        result = results.get(algo)
        now = running is not None and running.algo == algo and running.n == settings.n
        label = Content.styled(f"{algorithm.label:<13} ", "bold" if now else "")
        if result is None:
            note = "running…" if now else "·"
            lines.append(Content.assemble(label, (note, "italic $text-muted" if now else
                                                 "$text-muted")))
            continue
        glyph_bar = bar(fractions.get(algo, 0.0), bar_width)
        if result.estimated:
            glyph_bar = glyph_bar.replace("█", "▒")  # estimated reads without colour too
        lines.append(Content.assemble(
            label,
            (glyph_bar, "$text-muted" if result.estimated else "$primary"),
            f" {seconds_text(result):>9}{rate_text(result.gflops):>9}"
            f"{share_text(result.fraction_of_peak):>7}{error_text(result):>9}",
        ))
    return Content("\n").join(lines)


def machine_line(info: BlasInfo | None, book: RaceBook, settings: RaceSettings) -> Content:
    if info is None:
        return Content.styled("reading the BLAS…", "italic $text-muted")
    peak = book.peaks.get(settings.key)
    peak_text = f"peak {peak:.1f} GFLOP/s" if peak is not None else "peak: r measures it"
    return Content.assemble(("BLAS ", "bold"), info.describe(), " · ", peak_text)


def footnote(book: RaceBook, settings: RaceSettings) -> Content:
    results = [r for a in ALGORITHMS if (r := book.at(settings, a)) is not None]
    if any(r.estimated for r in results):
        fitted = ", ".join(map(str, FIT_SIZES))
        return Content.styled(f"▒ ~ estimated past n = {PURE_PYTHON_MAX_N}: c·n³ fitted to "
                              f"plain-Python runs at n = {fitted}", "$text-muted")
    if not results:
        sweep = settings.sweep_sizes()
        return Content.styled(f"r times every algorithm at n = {settings.n}; s sweeps n = "
                              f"{sweep[0]} … {sweep[-1]} for the chart", "$text-muted")
    return Content.styled("error: max |C − C_ref| / (max|A| · max|B| · n), C_ref in float64",
                          "$text-muted")


def settings_line(settings: RaceSettings, metric: str) -> Content:
    threads = "all threads" if settings.all_threads else "1 thread"
    return Content.assemble(
        ("n ", "bold"), f"{settings.n} (+/-)  ", ("dtype ", "bold"),
        f"{DTYPE_WORDS[settings.dtype]} (f)  ", ("BLAS ", "bold"), f"{threads} (t)  ",
        ("bars ", "bold"), f"{metric} (m)")


def status_text(running: Running | None, note: str, seed: int) -> Content:
    if running is None:
        return Content(note) if note else Content.styled(f"ready · inputs from seed {seed}",
                                                         "$text-muted")
    doing = "measuring the peak (BLAS at n = 2048)" if running.algo is None else (
        f"{ALGORITHMS[running.algo].label} at n = {running.n}")
    return Content.assemble(("▶ ", "bold"), doing, f" · {running.fraction:.0%} · c stops")


# --- the explanation panel (the project's own words, live numbers) ---------------------------


def big_number(value: float) -> str:
    """33.6 M, 2.15 G, 137 G: a count in three digits."""
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {prefix}"
    return f"{value:.3g}"


def explain_race(book: RaceBook, settings: RaceSettings) -> Text:
    n = settings.n
    naive, blas = book.at(settings, "naive"), book.at(settings, "blas")
    speedup = ""
    if naive is not None and blas is not None and blas.seconds > 0:
        speedup = (f": here {blas.gflops:.3g} GFLOP/s, {naive.seconds / blas.seconds:,.0f}× "
                   "the naive loop")
    return Text.assemble(
        ("Writing it. ", "bold"),
        "Check the shapes (m×k by k×p, else an error naming both), then three loops: n³ "
        f"multiply-adds, 2n³ = {big_number(2 * n**3)}flops at n = {n}. Every loop order does "
        "the same sums; i-k-j reads B along its rows. ",
        ("Optimising it: ", "bold"),
        f"let BLAS do it. a @ b blocks for registers and caches, uses SIMD and every core"
        f"{speedup}.",
    )


def explain_complexity(book: RaceBook, settings: RaceSettings) -> Text:
    return Text.assemble(
        ("Complexity. ", "bold"),
        "n³ multiply-adds whatever the loop order: every classical method is a line of slope "
        "3 on these log-log axes, and only its height (the cost of one term) differs. "
        "Strassen's slope tends to log₂7 ≈ 2.807, but one level saves only 1/8 of the "
        "products, so at these sizes it shows as a lower line, not a new slope. "
        f"Points so far: {book.count(settings)}.",
    )
