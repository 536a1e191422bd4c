"""One row per feature: the six interview questions, their screens, CLI commands and benchmarks.

The home screen's number keys, the palette's screen list, `microgpt-tui COMMAND` and
`microgpt-tui bench NAME` all read these rows, so adding a feature touches this table only.
Everything is named by import path and loaded when used, so the home screen's first frame and
`microgpt-tui --help` never pay for numpy, networkx, cuda or a screen's module. A screen whose
issue has not landed yet has no module: the app shows a placeholder that says what is coming.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandSpec:
    """A headless subcommand, `microgpt-tui NAME`."""

    name: str
    module: str  # defines HELP, add_arguments(parser) and run(args, out) -> exit status
    help: str  # the line in `microgpt-tui --help`


@dataclass(frozen=True)
class BenchSpec:
    """A benchmark, `microgpt-tui bench NAME`."""

    name: str
    module: str  # defines BENCHMARK
    description: str  # the line in `microgpt-tui bench --list`


@dataclass(frozen=True)
class ScreenSpec:
    """One screen of a question, with the headless commands and benchmarks of its feature."""

    screen_id: str
    title: str
    module: str | None  # "microgpt_tui.tui.screens.backprop:BackpropScreen"; None = coming soon
    summary: str = ""  # what the screen shows (the placeholder promises it until it lands)
    commands: tuple[CommandSpec, ...] = ()
    benchmarks: tuple[BenchSpec, ...] = ()


@dataclass(frozen=True)
class Question:
    number: int  # also its key on the home screen
    title: str
    short_title: str  # the home key's description in `?` and the palette
    topics: str
    answer_asset: str  # Markdown in assets/answers/
    screens: tuple[ScreenSpec, ...]


def _cli(name: str, help_text: str) -> CommandSpec:
    return CommandSpec(name, f"microgpt_tui.tui.cli.{name}_cmd", help_text)


def _bench(name: str, description: str) -> BenchSpec:
    return BenchSpec(name, f"microgpt_tui.tui.bench.{name}", description)


QUESTIONS: tuple[Question, ...] = (
    Question(
        1,
        "Computers in general",
        "Computers",
        "13 in binary, the speed of light, merge sort's complexity",
        "q1_computers.md",
        (
            ScreenSpec(
                "bits",
                "13 in binary",
                "microgpt_tui.tui.screens.bits:BitsScreen",
                "Type a number and watch it become binary by repeated division, hex and two's "
                "complement; toggle its bits; see how a float is stored and why 0.1 + 0.2 ≠ 0.3.",
                commands=(_cli("bits", "an integer in binary, hex, two's complement; "
                                       "--float: its IEEE-754 layout"),),
            ),
            ScreenSpec(
                "light",
                "The speed of light",
                "microgpt_tui.tui.screens.light:LightScreen",
                "How far light goes in a clock cycle, round trips between cities over fibre, "
                "and the latency ladder from L1 to the far side of the Earth.",
                commands=(_cli("light", "light's time over a distance or between cities, "
                                        "in vacuum and fibre"),),
            ),
            ScreenSpec(
                "sort",
                "Merge sort",
                "microgpt_tui.tui.screens.mergesort:MergeSortScreen",
                "Merge sort stepped split by split and merge by merge, its comparisons counted "
                "against n log n, beside Python's own Timsort.",
                commands=(_cli("sort", "merge sort's comparisons against n·log₂ n, fitted; "
                                       "Timsort beside it"),),
            ),
        ),
    ),
    Question(
        2,
        "Matrix multiplication",
        "Matmul",
        "the triple loop, Strassen, cache blocking, BLAS",
        "q2_matmul.md",
        (
            ScreenSpec(
                "matmul",
                "Matmul optimisation",
                "microgpt_tui.tui.screens.matmul:MatmulScreen",
                "Naive, Strassen, cache-blocked and BLAS matmul side by side, timed at your "
                "sizes, with a cache model that shows why blocking wins.",
                commands=(_cli("matmul", "race the matmul algorithms: time, GFLOP/s, share of "
                                         "peak, error; or --cache-sim"),),
                benchmarks=(_bench("matmul", "Strassen vs BLAS (2048-8192, crossover), i-k-j vs "
                                             "i-j-k, GFLOP/s and share of peak per algorithm"),),
            ),
        ),
    ),
    Question(
        3,
        "Estimating pi",
        "Pi",
        "Monte Carlo with a uniform random function",
        "q3_pi.md",
        (
            ScreenSpec(
                "pi",
                "Monte Carlo pi",
                "microgpt_tui.tui.screens.pi:PiScreen",
                "Darts landing on a unit square live, the estimate and its error bars, a log-log "
                "convergence chart, and bursts of billions of darts on every core.",
                commands=(_cli("pi", "estimate pi with darts: error bars and darts/s"),),
                benchmarks=(
                    _bench(
                        "pi",
                        "Monte Carlo pi: darts/s vs the plain Python loop; the screen's SSH budget",
                    ),
                ),
            ),
        ),
    ),
    Question(
        4,
        "What happens when you type a URL",
        "URL",
        "DNS, TCP, TLS, HTTP",
        "q4_url.md",
        (
            ScreenSpec(
                "url",
                "Typing a URL",
                "microgpt_tui.tui.screens.url:UrlScreen",
                "DNS resolution, the TCP handshake, the TLS handshake and the HTTP exchange "
                "drawn as a timeline you can step through.",
                commands=(_cli("http", "visit a URL step by step: DNS, the walk from the root, "
                                       "TCP, TLS, HTTP, redirects, the DOM; --demo offline"),),
            ),
        ),
    ),
    Question(
        5,
        "GPT from scratch",
        "GPT",
        "scalar autograd and MicroGPT training",
        "q5_gpt.md",
        (
            ScreenSpec(
                "backprop",
                "Autograd: the backward pass",
                "microgpt_tui.tui.screens.backprop:BackpropScreen",
                "Step through a scalar autograd graph node by node and watch backward() apply "
                "the chain rule edge by edge in reverse topological order.",
                commands=(_cli("grad", "evaluate an autograd program; print data and grads"),),
                benchmarks=(
                    _bench(
                        "autograd",
                        "scalar autograd vs the reference program's Value; DAG repaint per step",
                    ),
                    _bench("backprop", "MicroGPT-token preset: key to first frame, to graph"),
                ),
            ),
            ScreenSpec(
                "training",
                "MicroGPT training",
                "microgpt_tui.tui.screens.training:TrainingScreen",
                "Train MicroGPT live: loss curve, sampled names, attention heatmaps, and the "
                "Adam update of any weight.",
                commands=(
                    _cli("train", "train MicroGPT and print losses and names"),
                    _cli("sample", "generate names from a MicroGPT checkpoint"),
                    _cli("inspect", "a trained MicroGPT's per-token losses, why a character, "
                         "gradient checks, embedding map, gradient health"),
                ),
                benchmarks=(
                    _bench(
                        "microgpt",
                        "MicroGPT training steps: NumPy and scalar backends vs "
                        "the reference program and PyTorch eager",
                    ),
                    _bench(
                        "training",
                        "MicroGPT training in the app (80×24 pty) vs the same steps headless",
                    ),
                ),
            ),
        ),
    ),
    Question(
        6,
        "CUDA and flash attention",
        "CUDA",
        "kernels, shared memory tiles, online softmax",
        "q6_cuda.md",
        (
            ScreenSpec(
                "cuda",
                "CUDA kernels",
                "microgpt_tui.tui.screens.cuda:CudaScreen",
                "Matmul and flash-attention kernels compiled with NVRTC and launched on your "
                "GPU (or a labelled CPU simulator), replayed tile by tile through SRAM.",
                commands=(_cli("kernels", "compile, run or simulate the CUDA kernels"),),
                benchmarks=(
                    _bench(
                        "kernels",
                        "CUDA kernels: simulator replay budget; on a GPU, vs cuBLAS "
                        "and PyTorch SDPA",
                    ),
                ),
            ),
        ),
    ),
)


# Features of the whole app rather than of one screen.
APP_COMMANDS: tuple[CommandSpec, ...] = (
    _cli("data", "show where the names dataset comes from"),
    _cli("bench", "run benchmarks side by side with their peers"),
    _cli("notes", "list recorded interview sessions; show or export one's write-up"),
    _cli("serve", "serve the app over SSH for an interview (one room with --pair)"),
)
APP_BENCHMARKS: tuple[BenchSpec, ...] = (
    _bench(
        "startup", "process start to the home screen's first frame vs a hello-world Textual app"
    ),
    _bench(
        "responsiveness",
        "key-to-frame latency (? opens the help) in an 80×24 pty under each screen's heaviest "
        "work",
    ),
    _bench(
        "serve",
        "the SSH interview server: ssh to first frame, a spectator's bytes/s, sessions served "
        "within 100 ms",
    ),
)


def all_screens() -> list[tuple[Question, ScreenSpec]]:
    """Every screen in question order, with its question."""
    return [(q, s) for q in QUESTIONS for s in q.screens]


def find_screen(screen_id: str) -> tuple[Question, ScreenSpec]:
    for question, spec in all_screens():
        if spec.screen_id == screen_id:
            return question, spec
    raise KeyError(screen_id)


def all_commands() -> list[CommandSpec]:
    """Every headless command: the app's own, then each screen's in question order."""
    return [*APP_COMMANDS, *(c for _, spec in all_screens() for c in spec.commands)]


def all_benchmarks() -> list[BenchSpec]:
    """Every benchmark: the app's own, then each screen's in question order."""
    return [*APP_BENCHMARKS, *(b for _, spec in all_screens() for b in spec.benchmarks)]
