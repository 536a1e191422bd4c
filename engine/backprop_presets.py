"""The Backprop screen's example graphs: small programs, and one MicroGPT token built from Values.

Programs are written in the expression language (engine/expression.py) so the user can open
them in the editor and change them. The MicroGPT token is built directly from Values in the
MicroGPT architecture at a tiny size, and every node is labelled with the module it belongs to
(embeddings, attention q/k/v, each attention head, attention output, MLP, lm_head,
loss) so the screen can group them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from .autograd import Value
from .expression import parse_program

NEURON = """\
# one neuron: tanh(w1*x1 + w2*x2 + b)
x1 = 2.0
x2 = 0.0
w1 = -3.0
w2 = 1.0
b = 6.8813735870195432
n = w1*x1 + w2*x2 + b
o = tanh(n)
"""

COMPOUND = """\
# micrograd's own test expression: c and d are each used several times, so their
# gradients add up contributions from every use (g = 24.7041, dg/da = 138.8338)
a = -4.0
b = 2.0
c = a + b
d = a * b + b**3
c2 = c + (c + 1)
c3 = c2 + (1 + c2 + (-a))
d2 = d + (d * 2 + relu(b + a))
d3 = d2 + (3 * d2 + relu(b - a))
e = c3 - d3
f = e**2
g = f / 2.0 + 10.0 / f
"""

SOFTMAX_STABLE = """\
# softmax + cross-entropy over 3 logits, the max logit (m) subtracted first:
# exp never sees more than 0, and m's gradient comes out 0 - the shift changes nothing
l1 = 1000.0
l2 = 999.0
l3 = 998.0
m = 1000.0
e1 = exp(l1 - m)
e2 = exp(l2 - m)
e3 = exp(l3 - m)
s = e1 + e2 + e3
p1 = e1 / s
loss = -log(p1)
"""

SOFTMAX_NAIVE = """\
# softmax + cross-entropy over the same 3 logits without subtracting the max:
# exp(1000) is beyond the largest float, so this program cannot be evaluated
l1 = 1000.0
l2 = 999.0
l3 = 998.0
e1 = exp(l1)
e2 = exp(l2)
e3 = exp(l3)
s = e1 + e2 + e3
p1 = e1 / s
loss = -log(p1)
"""

RMSNORM = """\
# RMSNorm of a 4-vector, then a weighted sum to get one number to differentiate
x1 = 1.0
x2 = -2.0
x3 = 3.0
x4 = 0.5
ms = (x1**2 + x2**2 + x3**2 + x4**2) / 4
scale = (ms + 1e-8) ** -0.5
y1 = x1 * scale
y2 = x2 * scale
y3 = x3 * scale
y4 = x4 * scale
out = y1 + 2*y2 - y3 + 0.5*y4
"""

ATTENTION = """\
# one attention weight: q.k / sqrt(d) for two keys, softmax, weight of key 1 (d = 2)
q1 = 0.5
q2 = -1.0
k1a = 1.0
k1b = 0.2
k2a = -0.3
k2b = 0.8
s1 = (q1*k1a + q2*k1b) / 1.4142135623730951
s2 = (q1*k2a + q2*k2b) / 1.4142135623730951
e1 = exp(s1)
e2 = exp(s2)
w1 = e1 / (e1 + e2)
"""


@dataclass
class BuiltGraph:
    """A preset's graph: the root, the named values to tabulate, and optional module groups."""

    root: Value
    named: list[tuple[str, Value]]
    groups: dict[Value, str] = field(default_factory=dict)
    group_order: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    description: str
    program: str | None = None  # source in the expression language, editable
    builder: Callable[[], BuiltGraph] | None = None

    @property
    def editable(self) -> bool:
        """Written in the expression language, so the editor can open (a copy of) it."""
        return self.program is not None

    @property
    def label(self) -> str:
        return f"{self.key} {self.title}"

    def build(self) -> BuiltGraph:
        """Evaluate the program (or run the builder); raises ProgramError / NumericError."""
        if self.builder is not None:
            return self.builder()
        assert self.program is not None
        program = parse_program(self.program)
        assert program.result is not None
        return BuiltGraph(program.result, program.named_values)


@dataclass(frozen=True)
class TinyGPTConfig:
    """A MicroGPT size for the token preset. The defaults are a toy (n_embed 4, vocab 5);
    REAL_CONFIG is the model the Training screen trains."""

    n_embed: int = 4
    n_head: int = 1
    vocab_size: int = 5
    block_size: int = 2
    mlp_ratio: int = 4
    init_std: float = 0.3
    seed: int = 42


# The Training screen's model (engine/microgpt/config.py): n_embed 16, 4 heads, 27 tokens.
REAL_CONFIG = TinyGPTConfig(n_embed=16, n_head=4, vocab_size=27, block_size=16, init_std=0.08)
# The preset's name: BOS, "isabella", then BOS as the last position's target.
REAL_NAME = "isabella"


def token_name(token: int, vocab_size: int) -> str:
    """A token as a label: a-z for the 26 letters of the names corpus (BOS is "."), else its id."""
    if vocab_size == 27:
        return "." if token == 26 else chr(ord("a") + token)
    return str(token)


class _ModuleTagger:
    """Labels every node not yet labelled that a module's outputs reach, with that module."""

    def __init__(self) -> None:
        self.groups: dict[Value, str] = {}
        self.order: list[str] = []

    def tag(self, outputs: list[Value], module: str) -> None:
        if module not in self.order:
            self.order.append(module)
        stack = [v for v in outputs if v not in self.groups]
        while stack:
            node = stack.pop()
            if node in self.groups:
                continue
            self.groups[node] = module
            stack.extend(c for c in node.children if c not in self.groups)


def _named(values: list[Value], name: str | Callable[[int], str], start: int = 0
           ) -> list[Value]:
    """Give each value its name (what it is: `q[3] t2`, `softmax h1 t2:0`): name(i), or a
    template whose {} is the index (from start); returns the values."""
    for i, value in enumerate(values, start):
        value.name = name.format(i) if isinstance(name, str) else name(i)
    return values


def _matrix(rng: random.Random, rows: int, cols: int, std: float, name: str,
            row_name: Callable[[int], str] = str) -> list[list[Value]]:
    return [
        [Value(rng.gauss(0, std), name=f"{name}[{row_name(r)},{c}]") for c in range(cols)]
        for r in range(rows)
    ]


def _linear(x: list[Value], w: list[list[Value]]) -> list[Value]:
    return [Value.dot(row, x) for row in w]


def _rmsnorm(x: list[Value], at: str) -> list[Value]:
    squares = _named([xi * xi for xi in x], lambda j: f"x²[{j}] {at}")
    mean_square = Value.sum(squares)
    mean_square.name = f"Σx² {at}"
    mean_square = mean_square / len(x)
    mean_square.name = f"mean x² {at}"
    scale = (mean_square + 1e-8) ** -0.5
    scale.name = f"1/rms {at}"
    return _named([xi * scale for xi in x], lambda j: f"rmsnorm[{j}] {at}")


def _softmax(logits: list[Value], at: str = "", index: Callable[[int], str] = str
             ) -> list[Value]:
    """Softmax; at/index name the nodes (`exp h1 t2:0`, `Σexp h1 t2`, `softmax h1 t2:0`)."""
    top = max(logit.data for logit in logits)
    suffix = f" {at}" if at else ""
    sep = ":" if at else ""
    shifted = _named([logit - top for logit in logits],
                     lambda i: f"−max{suffix}{sep}{index(i)}" if at else f"−max[{index(i)}]")
    exps = [s.exp() for s in shifted]
    total = Value.sum(exps)
    _named(exps, lambda i: f"exp{suffix}{sep}{index(i)}" if at else f"exp[{index(i)}]")
    total.name = f"Σexp{suffix}"
    return _named([e / total for e in exps],
                  lambda i: f"softmax{suffix}{sep}{index(i)}" if at else f"p[{index(i)}]")


def build_microgpt_token(
    config: TinyGPTConfig = TinyGPTConfig(), tokens: tuple[int, ...] = (4, 0, 2)
) -> BuiltGraph:
    """One MicroGPT layer over a context of block_size tokens; the loss of the last position.

    tokens: input ids then the target of the last position (len = block_size + 1). The earlier
    positions are in the graph because the last one attends to their keys and values.
    Every node the model computes is named for what it is (`wte[e,3]`, `q[3] t2`,
    `q·k h1 t2:0` — head 1, query at position 2, key at 0 —, `softmax h1 t2:0`, `logit[a]`,
    `loss`); the rest (the products inside a sum, constants) keep their op.
    """
    rng = random.Random(config.seed)
    d, heads = config.n_embed, config.n_head
    head_dim = d // heads
    std = config.init_std

    def char(token: int) -> str:
        return token_name(token, config.vocab_size)

    wte = _matrix(rng, config.vocab_size, d, std, "wte", char)
    wpe = _matrix(rng, config.block_size, d, std, "wpe")
    wq, wk, wv, wo = (_matrix(rng, d, d, std, name) for name in ("wq", "wk", "wv", "wo"))
    fc1 = _matrix(rng, config.mlp_ratio * d, d, std, "fc1")
    fc2 = _matrix(rng, d, config.mlp_ratio * d, std, "fc2")
    lm_head = _matrix(rng, config.vocab_size, d, std, "lm_head", char)
    tagger = _ModuleTagger()

    keys: list[list[Value]] = []
    values: list[list[Value]] = []
    positions = len(tokens) - 1
    x: list[Value] = []
    for pos in range(positions):
        at = f"t{pos}"
        x = [te + pe for te, pe in zip(wte[tokens[pos]], wpe[pos], strict=True)]
        _named(x, f"emb[{{}}] {at}")
        x = _rmsnorm(x, at)
        tagger.tag(x, "embeddings")
        residual = x
        x = _rmsnorm(x, at)
        q = _named(_linear(x, wq), f"q[{{}}] {at}")
        keys.append(_named(_linear(x, wk), f"k[{{}}] {at}"))
        values.append(_named(_linear(x, wv), f"v[{{}}] {at}"))
        tagger.tag(q + keys[-1] + values[-1], "attn q/k/v")
        attended: list[Value] = []
        for h in range(heads):
            lo, hi = h * head_dim, (h + 1) * head_dim
            where = f"h{h} {at}"
            dots = _named([Value.dot(q[lo:hi], k[lo:hi]) for k in keys],
                          f"q·k {where}:{{}}")
            scores = _named([dot * (1 / math.sqrt(head_dim)) for dot in dots],
                            f"score {where}:{{}}")
            weights = _softmax(scores, where)
            head = [
                Value.dot(weights, [v[j] for v in values]) for j in range(lo, hi)
            ]
            _named(head, f"head{h}[{{}}] {at}", start=lo)
            tagger.tag(head, f"attn head {h}")
            attended.extend(head)
        projected = _named(_linear(attended, wo), f"wo·h[{{}}] {at}")
        x = [a + r for a, r in zip(projected, residual, strict=True)]
        _named(x, f"resid1[{{}}] {at}")
        tagger.tag(x, "attn output")
        residual = x
        up = _named(_linear(_rmsnorm(x, at), fc1), f"fc1[{{}}] {at}")
        hidden = _named([h.relu() for h in up], f"relu[{{}}] {at}")
        down = _named(_linear(hidden, fc2), f"fc2[{{}}] {at}")
        x = [a + r for a, r in zip(down, residual, strict=True)]
        _named(x, f"resid2[{{}}] {at}")
        tagger.tag(x, "MLP")
    logits = _named(_linear(x, lm_head), lambda i: f"logit[{char(i)}]")
    tagger.tag(logits, "lm_head")
    probs = _softmax(logits, index=char)
    target = tokens[-1]
    log_p = probs[target].log()
    log_p.name = f"log p[{char(target)}]"
    loss = -log_p
    loss.name = "loss"
    tagger.tag([loss], "loss")
    named = [(v.name or f"logit[{i}]", v) for i, v in enumerate(logits)]
    named += [(probs[target].name or "p", probs[target]), ("loss", loss)]
    return BuiltGraph(loss, named, tagger.groups, tagger.order)


def build_real_microgpt_token() -> BuiltGraph:
    """The Training screen's model (REAL_CONFIG) on BOS + "isabella", predicting the end."""
    bos = REAL_CONFIG.vocab_size - 1
    ids = [ord(c) - ord("a") for c in REAL_NAME]
    return build_microgpt_token(REAL_CONFIG, (bos, *ids, bos))


PRESETS: tuple[Preset, ...] = (
    Preset("1", "Neuron", "tanh(w1·x1 + w2·x2 + b)", program=NEURON),
    Preset("2", "Compound", "micrograd's test expression with shared subexpressions",
           program=COMPOUND),
    Preset("3", "Softmax + CE", "cross-entropy over 3 logits, max subtracted",
           program=SOFTMAX_STABLE),
    Preset("4", "Softmax, naive", "the same without the max: exp(1000) overflows",
           program=SOFTMAX_NAIVE),
    Preset("5", "RMSNorm", "RMSNorm of a 4-vector", program=RMSNORM),
    Preset("6", "Attention weight", "q·k/√d for two keys, softmax", program=ATTENTION),
    Preset("7", "MicroGPT token", "the real MicroGPT (n_embed 16, 4 heads, 27 tokens) on "
           "\".isabella\", the loss of its last position", builder=build_real_microgpt_token),
)


# The user's program, once one has run from the editor, is kept as one more preset.
USER_KEY = "8"


def user_preset(source: str) -> Preset:
    """The program the user last ran from the editor, as the preset on key 8."""
    return Preset(USER_KEY, "Your program", "the program you last ran from the editor",
                  program=source)


def find_preset(key: str) -> Preset:
    for preset in PRESETS:
        if preset.key == key:
            return preset
    raise KeyError(key)
