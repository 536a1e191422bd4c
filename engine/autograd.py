"""A scalar autograd engine: `Value` nodes form a DAG, and backward() is a reverse topological sort.

Every operation builds one node that stores its forward result and the local derivatives of
that result with respect to each child, side by side. backward() then needs no closures: it
walks the nodes in reverse topological order and applies the chain rule edge by edge,
`child.grad += local_grad * node.grad`. The same walk is exposed one edge at a time by
`backward_steps()`, which the Backprop screen, the `grad` command and the tests all replay.

Edge cases, stated once:
- relu'(0) = 0 (the subgradient micrograd and PyTorch use).
- log(x) for x <= 0 raises `DomainError`; `log(clamp=1e-10)` opts in to the reference program's
  behaviour (log(x + 1e-10), local derivative 1/(x + 1e-10)).
- A float result too large (exp(1000), 1e200 ** 2) raises `NumericOverflowError`; a division
  by zero (x / 0, 0 ** -1) raises `DivisionByZeroError`; a negative number to a fractional power
  raises `DomainError`. Plain `+`/`*` follow IEEE floats (they can give inf without raising);
  the expression language checks every node it builds for that.
- backward() seeds the root's grad with 1.0 and accumulates into every other grad: call
  `zero_grad(root)` before a second backward over the same graph.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any


class NumericError(ArithmeticError):
    """A forward value or local derivative without a finite real result."""


class DomainError(NumericError, ValueError):
    """An argument outside the function's domain, e.g. log(-1) or (-8) ** 0.5."""


class NumericOverflowError(NumericError, OverflowError):
    """A result beyond the largest float (≈ 1.8e308), e.g. exp(1000)."""


class DivisionByZeroError(NumericError, ZeroDivisionError):
    """x / 0, or 0 raised to a negative power."""


# Python's sum() of floats is a plain left fold up to 3.11; from 3.12 it compensates rounding
# errors (Neumaier), which would no longer match a chain of Value additions bit for bit.
_SUM_IS_LEFT_FOLD = sys.version_info < (3, 12)

# exp(x) overflows a float beyond this argument.
_EXP_LIMIT = math.log(sys.float_info.max)


def format_number(value: float) -> str:
    return f"{value:.6g}"


def format_base(value: float) -> str:
    """A power's base as written: a negative one in parentheses, (-8) ** 0.5."""
    return f"({value:.6g})" if value < 0 else f"{value:.6g}"


class Value:
    """One scalar in a computation graph.

    data: the forward value. grad: d(root)/d(this node), filled by backward(), 0.0 until then.
    children: the nodes this one was computed from. local_grads: d(this)/d(child) for each child,
    in the same order. op: the operation's symbol ("" for a leaf). name: an optional label.
    """

    __slots__ = ("data", "grad", "children", "local_grads", "op", "name")

    def __init__(
        self,
        data: float,
        children: tuple = (),
        local_grads: tuple = (),
        op: str = "",
        name: str | None = None,
    ) -> None:
        self.data = data
        self.grad = 0.0
        self.children = children
        self.local_grads = local_grads
        self.op = op
        self.name = name

    def __repr__(self) -> str:
        label = f"{self.name}=" if self.name else ""
        return f"Value({label}{self.data!r}, grad={self.grad!r}, op={self.op!r})"

    # Binary operations: forward result, then (d/d self, d/d other).

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __radd__(self, other: float) -> Value:
        return Value(other) + self

    def __sub__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __rsub__(self, other: float) -> Value:
        return Value(other) - self

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __rmul__(self, other: float) -> Value:
        return Value(other) * self

    def __truediv__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        a, b = self.data, other.data
        if b == 0:
            raise DivisionByZeroError(f"division by zero: {format_number(a)} / 0")
        data = a / b
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b² (as -(a/b)/b, so a tiny b² cannot underflow to 0)
        return Value(data, (self, other), (1.0 / b, -data / b), "/")

    def __rtruediv__(self, other: float) -> Value:
        return Value(other) / self

    def __pow__(self, exponent: float) -> Value:
        if isinstance(exponent, Value) or not isinstance(exponent, (int, float)):
            return NotImplemented
        # A float exponent keeps int ** int from building huge exact integers (2 ** 10**9).
        exponent = float(exponent)
        x = self.data
        try:
            data = x**exponent
            # d(x^p)/dx = p · x^(p-1); x^0 is the constant 1 (also at x = 0).
            local = exponent * x ** (exponent - 1) if exponent != 0 else 0.0
        except ZeroDivisionError:
            if x == 0 and exponent > 0:
                raise DomainError(
                    f"domain error: 0 ** {format_number(exponent)} has no finite derivative at 0"
                ) from None
            raise DivisionByZeroError(
                f"division by zero: 0 ** {format_number(exponent)}"
            ) from None
        except OverflowError:
            raise NumericOverflowError(
                f"overflow: {format_base(x)} ** {format_number(exponent)} is too large for a float"
            ) from None
        if isinstance(data, complex) or isinstance(local, complex):
            raise DomainError(
                f"domain error: {format_base(x)} ** {format_number(exponent)}: a negative number "
                "to a fractional power is not a real number"
            )
        return Value(data, (self,), (local,), f"**{format_number(exponent)}")

    def __neg__(self) -> Value:
        return Value(-self.data, (self,), (-1.0,), "neg")

    # Unary functions: forward result and its local derivative.

    def exp(self) -> Value:
        x = self.data
        try:
            e = math.exp(x)
        except OverflowError:
            raise NumericOverflowError(
                f"overflow: exp({format_number(x)}) is too large for a float "
                f"(exp overflows above {_EXP_LIMIT:.2f})"
            ) from None
        return Value(e, (self,), (e,), "exp")  # d(e^x)/dx = e^x

    def log(self, clamp: float | None = None) -> Value:
        """Natural log; clamp=c computes log(x + c) instead (the reference's 1e-10 guard)."""
        x = self.data if clamp is None else self.data + clamp
        if x <= 0:
            shown = format_number(self.data)
            if clamp is not None:
                shown += f" + {clamp:g}"
            raise DomainError(f"domain error: log({shown}) needs a positive argument")
        return Value(math.log(x), (self,), (1.0 / x,), "log")  # d(ln x)/dx = 1/x

    def relu(self) -> Value:
        x = self.data
        if x > 0:
            return Value(x, (self,), (1.0,), "relu")
        return Value(0.0, (self,), (0.0,), "relu")  # relu'(0) = 0

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")  # d(tanh x)/dx = 1 - tanh²x

    # Fused n-ary nodes: one node instead of a chain, so big sums cost one node in backward().

    @staticmethod
    def sum(values: Iterable[Value]) -> Value:
        """Σ values as one node; forward = left fold in order (equal to a chain of additions)."""
        values = tuple(values)
        if _SUM_IS_LEFT_FOLD:
            total = sum([v.data for v in values])
        else:
            total = 0
            for v in values:
                total += v.data
        return Value(total, values, (1.0,) * len(values), "sum")

    @staticmethod
    def dot(ws: Sequence[Value], xs: Sequence[Value]) -> Value:
        """Σ w_i·x_i as one node; forward = left fold of the products in order.

        Children are ws then xs; d/dw_i = x_i and d/dx_i = w_i.
        """
        if len(ws) != len(xs):
            raise ValueError(f"dot of vectors of lengths {len(ws)} and {len(xs)}")
        w_data = [w.data for w in ws]
        x_data = [x.data for x in xs]
        if _SUM_IS_LEFT_FOLD:
            total = sum([w * x for w, x in zip(w_data, x_data, strict=True)])
        else:
            total = 0
            for w, x in zip(w_data, x_data, strict=True):
                total += w * x
        return Value(total, (*ws, *xs), (*x_data, *w_data), "dot")

    # Comparisons look at data; equality and hashing stay identity-based (nodes live in sets).

    def __lt__(self, other: Value | float) -> bool:
        return self.data < (other.data if isinstance(other, Value) else other)

    def __gt__(self, other: Value | float) -> bool:
        return self.data > (other.data if isinstance(other, Value) else other)

    def __le__(self, other: Value | float) -> bool:
        return self.data <= (other.data if isinstance(other, Value) else other)

    def __ge__(self, other: Value | float) -> bool:
        return self.data >= (other.data if isinstance(other, Value) else other)

    def backward(self) -> None:
        """Fill every node's grad with d(self)/d(node): seed 1.0, then reverse topological order."""
        self.grad = 1.0
        for node in reversed(topological_order(self)):
            grad = node.grad
            # strict=False: the lengths match by construction, and this is the hot loop.
            for child, local in zip(node.children, node.local_grads, strict=False):
                child.grad += local * grad


def topological_order(root: Value) -> list[Value]:
    """Every node reachable from root, each after all of its children (root last).

    Iterative depth-first post-order, visiting children in order: the same order as the
    classic recursive build_topo, without its recursion limit.
    """
    order: list[Value] = []
    visited = {root}
    path = [root]  # the nodes being expanded, and beside them the rest of their children
    pending = [iter(root.children)]
    while pending:
        for child in pending[-1]:
            if child not in visited:
                visited.add(child)
                if child.children:
                    path.append(child)
                    pending.append(iter(child.children))
                    break
                order.append(child)  # a leaf is finished as soon as it is reached
        else:
            pending.pop()
            order.append(path.pop())
    return order


def forward_order(root: Value) -> list[Value]:
    """The order in which the graph is evaluated: every node after the nodes it is computed from.

    It is the topological order; leaves (inputs and constants) need no computation.
    """
    return topological_order(root)


def zero_grad(root: Value) -> None:
    """Set grad = 0.0 on every node reachable from root."""
    for node in topological_order(root):
        node.grad = 0.0


@dataclass(frozen=True, slots=True)
class BackwardStep:
    """One edge update of backward(): child.grad += local_grad * node_grad.

    index: position in the sequence of edge updates. edge: position of child in node.children.
    """

    index: int
    node: Value
    child: Value
    edge: int
    local_grad: float
    node_grad: float
    contribution: float
    child_grad_before: float
    child_grad_after: float


def backward_steps(root: Value) -> Iterator[BackwardStep]:
    """backward() one edge at a time: seeds root.grad = 1.0, then yields after each update.

    Running it to the end leaves exactly the grads backward() leaves (same order, same floats).
    """
    order = topological_order(root)
    root.grad = 1.0
    index = 0
    for node in reversed(order):
        grad = node.grad
        for edge, (child, local) in enumerate(zip(node.children, node.local_grads, strict=True)):
            before = child.grad
            contribution = local * grad
            child.grad = before + contribution
            yield BackwardStep(index, node, child, edge, local, grad, contribution, before,
                               child.grad)
            index += 1


def finite_backward_steps(root: Value) -> Iterator[BackwardStep]:
    """backward_steps(), stopping with NumericOverflowError at the first edge update whose
    grad is not a finite float, named by the node it reached (and the node it came through).

    The forward values and local derivatives are finite (the expression language checks each
    node), so the first non-finite grad is an overflow of local_grad × node_grad, or of a sum.
    """
    for step in backward_steps(root):
        if not math.isfinite(step.child_grad_after):
            raise NumericOverflowError(
                f"overflow in backward(): {node_label(step.child)}.grad += "
                f"{format_number(step.local_grad)} × {format_number(step.node_grad)} "
                f"(via {node_label(step.node)}) is too large for a float"
            )
        yield step


def edge_count(root: Value) -> int:
    """How many edge updates backward() applies (one per child slot of every node)."""
    return sum(len(node.children) for node in topological_order(root))


def node_label(node: Value) -> str:
    """A short label: the name, else the op, else the constant's value."""
    if node.name:
        return node.name
    if node.op:
        return node.op
    return format_number(node.data)


def to_networkx(root: Value) -> Any:
    """A networkx DiGraph of the graph: nodes 0..n-1 in topological order, edges child → node.

    Node attributes: op, data, grad, label. Edge attributes: local_grad, edge (child slot).
    """
    import networkx as nx

    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    graph: nx.DiGraph[int] = nx.DiGraph()
    for i, node in enumerate(order):
        graph.add_node(i, op=node.op, data=node.data, grad=node.grad, label=node_label(node))
    for node in order:
        for edge, (child, local) in enumerate(zip(node.children, node.local_grads, strict=True)):
            # A child used twice by one node (x * x) is one DiGraph edge: keep the summed local.
            if graph.has_edge(index[child], index[node]):
                graph.edges[index[child], index[node]]["local_grad"] += local
            else:
                graph.add_edge(index[child], index[node], local_grad=local, edge=edge)
    return graph


def _dot_escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("{", "\\{").replace("}", "\\}")
        .replace("|", "\\|").replace("<", "\\<").replace(">", "\\>")
    )


def to_dot(root: Value) -> str:
    """Graphviz DOT text: one record per node (label | data | grad), edges child → node."""
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    lines = ["digraph autograd {", "  rankdir=LR;", '  node [shape=record, fontname="monospace"];']
    for i, node in enumerate(order):
        label = _dot_escape(node_label(node))
        lines.append(
            f'  n{i} [label="{label} | data {node.data:.4f} | grad {node.grad:.4f}"];'
        )
    for node in order:
        for child, local in zip(node.children, node.local_grads, strict=True):
            lines.append(f'  n{index[child]} -> n{index[node]} [label="{local:.4g}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
