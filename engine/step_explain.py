"""Words and numbers for one step of the forward or backward pass, as plain lines of text.

The Backprop screen's side panel shows these: the op's local-derivative rule with its value,
the update `child.grad += local × node.grad`, and why a node used twice receives two
contributions.
"""

from __future__ import annotations

from collections.abc import Callable

from .autograd import BackwardStep, Value, node_label

Namer = Callable[[Value], str]

# Local-derivative rules of the one-input ops, in terms of the child {c}.
_UNARY_RULES = {
    "exp": "d(exp {c})/d{c} = exp({c})",
    "log": "d(log {c})/d{c} = 1/{c}",
    "relu": "d relu({c})/d{c} = 1 if {c} > 0 else 0",
    "tanh": "d tanh({c})/d{c} = 1 - tanh²({c})",
}


def fmt(value: float) -> str:
    """A number at the side panel's precision: 4 significant decimals, compact for big/small."""
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-4):
        return f"{value:.4g}"
    return f"{value:.4f}"


def _names(node: Value, name: Namer) -> list[str]:
    return [name(child) for child in node.children]


def formula(node: Value, name: Namer = node_label) -> str:
    """How the node is computed from its children, in symbols: "e = a * b".

    name: how a node is referred to (the screen numbers unnamed nodes as they are drawn)."""
    args = _names(node, name)
    op = node.op
    if not node.children:
        return f"{name(node)} (input)" if node.name else f"constant {fmt(node.data)}"
    if op in ("+", "-", "*", "/"):
        expression = f"{args[0]} {op} {args[1]}"
    elif op.startswith("**"):
        expression = f"{args[0]}{op}"
    elif op == "neg":
        expression = f"-{args[0]}"
    elif op == "sum":
        expression = " + ".join(args) if len(args) <= 4 else f"sum of {len(args)} values"
    elif op == "dot":
        half = len(args) // 2
        pairs = [f"{w}·{x}" for w, x in zip(args[:half], args[half:], strict=True)]
        expression = " + ".join(pairs) if half <= 3 else f"dot product of {half} pairs"
    else:
        expression = f"{op}({args[0]})"
    return f"{name(node)} = {expression}"


def explain_forward(node: Value, name: Namer = node_label) -> list[str]:
    """Lines for evaluating `node`: its formula, the numbers put in, and the result."""
    lines = [formula(node, name)]
    values = ", ".join(f"{name(c)} = {fmt(c.data)}" for c in node.children[:6])
    if len(node.children) > 6:
        values += f", … ({len(node.children)} inputs)"
    if values:
        lines.append(f"with {values}")
    lines.append(f"→ data = {fmt(node.data)}")
    return lines


def local_rule(node: Value, edge: int, name: Namer = node_label) -> str:
    """The local derivative of node with respect to its child at `edge`, rule and value."""
    op = node.op
    local = fmt(node.local_grads[edge])
    names = _names(node, name)
    child = names[edge]
    if op == "+":
        return f"d({names[0]} + {names[1]})/d{child} = 1"
    if op == "-":
        return f"d({names[0]} - {names[1]})/d{child} = {'1' if edge == 0 else '-1'}"
    if op == "*":
        other = names[1 - edge]
        return f"d({names[0]}·{names[1]})/d{child} = {other} = {local}"
    if op == "/":
        if edge == 0:
            return f"d({names[0]}/{names[1]})/d{child} = 1/{names[1]} = {local}"
        return f"d({names[0]}/{names[1]})/d{child} = -{names[0]}/{names[1]}² = {local}"
    if op.startswith("**"):
        p = op[2:]
        return f"d({child}^{p})/d{child} = {p}·{child}^({p}-1) = {local}"
    if op == "neg":
        return f"d(-{child})/d{child} = -1"
    if op in _UNARY_RULES:
        return f"{_UNARY_RULES[op].format(c=child)} = {local}"
    if op == "sum":
        return f"d(Σ …)/d{child} = 1"
    if op == "dot":
        half = len(names) // 2
        partner = names[edge + half] if edge < half else names[edge - half]
        return f"d(Σ w·x)/d{child} = {partner} = {local}"
    return f"d{name(node)}/d{child} = {local}"


def explain_backward(
    step: BackwardStep, parents: int, received: int, name: Namer = node_label
) -> list[str]:
    """Lines for one edge update. parents: how many edges leave the child (its uses);
    received: how many of those have delivered their contribution, this one included."""
    node, child = name(step.node), name(step.child)
    lines = [
        f"edge {child} → {node}",
        local_rule(step.node, step.edge, name),
        f"{child}.grad += local × {node}.grad",
        f"  = {fmt(step.child_grad_before)} + {fmt(step.local_grad)} × {fmt(step.node_grad)}",
        f"  = {fmt(step.child_grad_before)} + {fmt(step.contribution)}"
        f" = {fmt(step.child_grad_after)}",
    ]
    if parents > 1:
        lines.append(
            f"{child} is used {parents} times, so its grad is the sum of {parents} "
            f"contributions: this is {received} of {parents}"
            + (" — now complete." if received == parents else ".")
        )
    return lines
