"""The six interview questions and the screens that answer them.

Screens are named by import path and loaded only when opened, so the home screen's first frame
never pays for numpy, networkx or cuda. A screen whose issue has not landed yet has no module:
the app shows a placeholder that says what is coming.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScreenSpec:
    """One screen of a question."""

    screen_id: str
    title: str
    module: str | None  # "microgpt_tui.tui.screens.backprop:BackpropScreen"; None = coming soon
    summary: str = ""  # what the screen shows (the placeholder promises it until it lands)


@dataclass(frozen=True)
class Question:
    number: int
    title: str
    topics: str
    answer_asset: str  # Markdown in assets/answers/
    screens: tuple[ScreenSpec, ...]


QUESTIONS: tuple[Question, ...] = (
    Question(
        1,
        "Computers in general",
        "13 in binary, the speed of light, merge sort's complexity",
        "q1_computers.md",
        (
            ScreenSpec(
                "basics",
                "Binary, light and merge sort",
                None,
                "Type a number and watch it become binary, hex and two's complement; how far "
                "light travels in a clock cycle; merge sort stepped split by split, with its "
                "n log n comparisons counted.",
            ),
        ),
    ),
    Question(
        2,
        "Matrix multiplication",
        "the triple loop, Strassen, cache blocking, BLAS",
        "q2_matmul.md",
        (
            ScreenSpec(
                "matmul",
                "Matmul optimisation",
                None,
                "Naive, Strassen, cache-blocked and BLAS matmul side by side, timed at your "
                "sizes, with a cache model that shows why blocking wins.",
            ),
        ),
    ),
    Question(
        3,
        "Estimating pi",
        "Monte Carlo with a uniform random function",
        "q3_pi.md",
        (
            ScreenSpec(
                "pi",
                "Monte Carlo pi",
                "microgpt_tui.tui.screens.pi:PiScreen",
                "Darts landing on a unit square live, the estimate and its error bars, a log-log "
                "convergence chart, and bursts of billions of darts on every core.",
            ),
        ),
    ),
    Question(
        4,
        "What happens when you type a URL",
        "DNS, TCP, TLS, HTTP",
        "q4_url.md",
        (
            ScreenSpec(
                "url",
                "Typing a URL",
                None,
                "DNS resolution, the TCP handshake, the TLS handshake and the HTTP exchange "
                "drawn as a timeline you can step through.",
            ),
        ),
    ),
    Question(
        5,
        "GPT from scratch",
        "scalar autograd and MicroGPT training",
        "q5_gpt.md",
        (
            ScreenSpec(
                "backprop",
                "Autograd: the backward pass",
                "microgpt_tui.tui.screens.backprop:BackpropScreen",
                "Step through a scalar autograd graph node by node and watch backward() apply "
                "the chain rule edge by edge in reverse topological order.",
            ),
            ScreenSpec(
                "training",
                "MicroGPT training",
                "microgpt_tui.tui.screens.training:TrainingScreen",
                "Train MicroGPT live: loss curve, sampled names, attention heatmaps, and the "
                "Adam update of any weight.",
            ),
        ),
    ),
    Question(
        6,
        "CUDA and flash attention",
        "kernels, shared memory tiles, online softmax",
        "q6_cuda.md",
        (
            ScreenSpec(
                "cuda",
                "CUDA kernels",
                "microgpt_tui.tui.screens.cuda:CudaScreen",
                "Matmul and flash-attention kernels compiled with NVRTC and launched on your "
                "GPU (or a labelled CPU simulator), replayed tile by tile through SRAM.",
            ),
        ),
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
