"""The scalar autograd engine: ops and their local derivatives, gradients against finite
differences (always) and PyTorch float64 (when installed), the stepping API, and export."""

from __future__ import annotations

import gc
import math
import random

import pytest

from microgpt_tui.engine.autograd import (
    DivisionByZeroError,
    DomainError,
    NumericOverflowError,
    Value,
    backward_steps,
    edge_count,
    forward_order,
    to_dot,
    to_networkx,
    topological_order,
    zero_grad,
)
from microgpt_tui.engine.backprop_presets import find_preset

# --- random expression trees, evaluated three ways: Value, plain floats, torch -------------

UNARY = ("tanh", "relu", "exp_tanh", "log_sq", "pow2", "pow3", "sqrt_sq", "neg")
BINARY = ("+", "-", "*", "/")


def random_tree(rng: random.Random, depth: int, n_inputs: int):
    if depth == 0 or rng.random() < 0.2:
        if rng.random() < 0.8:
            return ("x", rng.randrange(n_inputs))
        return ("c", round(rng.uniform(-2, 2), 3))
    if rng.random() < 0.4:
        return (rng.choice(UNARY), random_tree(rng, depth - 1, n_inputs))
    return (rng.choice(BINARY), random_tree(rng, depth - 1, n_inputs),
            random_tree(rng, depth - 1, n_inputs))


def evaluate(tree, xs, lib):
    """lib: how to make a constant and apply exp/log/tanh/relu for Values, floats or tensors."""
    kind = tree[0]
    if kind == "x":
        return xs[tree[1]]
    if kind == "c":
        return tree[1]
    if kind in BINARY:
        a, b = evaluate(tree[1], xs, lib), evaluate(tree[2], xs, lib)
        if kind == "+":
            return a + b
        if kind == "-":
            return a - b
        if kind == "*":
            return a * b
        return a / (b * b + 0.5)  # a denominator that never reaches 0
    a = evaluate(tree[1], xs, lib)
    if kind == "tanh":
        return lib.tanh(a)
    if kind == "relu":
        return lib.relu(a)
    if kind == "exp_tanh":
        return lib.exp(lib.tanh(a))
    if kind == "log_sq":
        return lib.log(a * a + 1)
    if kind == "pow2":
        return (a * 0.5) ** 2
    if kind == "pow3":
        return lib.tanh(a) ** 3
    if kind == "sqrt_sq":
        return (a * a + 0.25) ** 0.5
    return -a


class ValueLib:
    tanh = staticmethod(lambda v: v.tanh() if isinstance(v, Value) else math.tanh(v))
    relu = staticmethod(lambda v: v.relu() if isinstance(v, Value) else max(v, 0.0))
    exp = staticmethod(lambda v: v.exp() if isinstance(v, Value) else math.exp(v))
    log = staticmethod(lambda v: v.log() if isinstance(v, Value) else math.log(v))


class FloatLib:
    tanh = staticmethod(math.tanh)
    relu = staticmethod(lambda v: max(v, 0.0))
    exp = staticmethod(math.exp)
    log = staticmethod(math.log)


def generated_cases(count: int = 60, n_inputs: int = 3):
    rng = random.Random(1234)
    cases = []
    while len(cases) < count:
        tree = random_tree(rng, 5, n_inputs)
        xs = [rng.uniform(-1.5, 1.5) for _ in range(n_inputs)]
        cases.append((tree, xs))
    return cases


def value_grads(tree, xs):
    inputs = [Value(x, name=f"x{i}") for i, x in enumerate(xs)]
    out = evaluate(tree, inputs, ValueLib)
    if not isinstance(out, Value):
        return float(out), [0.0] * len(xs)
    out.backward()
    return out.data, [v.grad for v in inputs]


def _near_relu_kink(tree, xs) -> bool:
    """relu is not differentiable at 0: skip cases where a relu argument is within 1e-4 of 0."""
    found = False

    def walk(node):
        nonlocal found
        if node[0] == "relu" and abs(evaluate(node[1], xs, FloatLib)) < 1e-4:
            found = True
        for child in node[1:]:
            if isinstance(child, tuple):
                walk(child)

    walk(tree)
    return found


def test_gradients_match_central_finite_differences():
    checked = 0
    for tree, xs in generated_cases():
        if _near_relu_kink(tree, xs):
            continue
        data, grads = value_grads(tree, xs)
        assert data == pytest.approx(evaluate(tree, xs, FloatLib), rel=1e-12, abs=1e-12)
        h = 1e-6
        for i in range(len(xs)):
            up, down = list(xs), list(xs)
            up[i] += h
            down[i] -= h
            numeric = (evaluate(tree, up, FloatLib) - evaluate(tree, down, FloatLib)) / (2 * h)
            assert grads[i] == pytest.approx(numeric, abs=1e-5, rel=1e-5), (tree, xs, i)
        checked += 1
    assert checked >= 50


def test_gradients_match_pytorch_float64():
    torch = pytest.importorskip("torch")

    def as_tensor(v):
        return torch.as_tensor(v, dtype=torch.float64)

    class TorchLib:
        tanh = staticmethod(lambda v: torch.tanh(as_tensor(v)))
        relu = staticmethod(lambda v: torch.relu(as_tensor(v)))
        exp = staticmethod(lambda v: torch.exp(as_tensor(v)))
        log = staticmethod(lambda v: torch.log(as_tensor(v)))

    for tree, xs in generated_cases(count=80):
        if _near_relu_kink(tree, xs):
            continue
        data, grads = value_grads(tree, xs)
        inputs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
        out = evaluate(tree, inputs, TorchLib)
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            continue
        out.backward()
        assert abs(out.item() - data) <= 1e-9 * max(1.0, abs(data))
        for value_grad, tensor in zip(grads, inputs, strict=True):
            expected = 0.0 if tensor.grad is None else tensor.grad.item()
            assert abs(value_grad - expected) <= 1e-9 * max(1.0, abs(expected)), tree


def test_micrograd_compound_expression_matches_published_values():
    built = find_preset("2").build()
    named = dict(built.named)
    built.root.backward()
    assert built.root.data == pytest.approx(24.7041, abs=1e-4)
    assert named["a"].grad == pytest.approx(138.8338, abs=1e-4)
    assert named["b"].grad == pytest.approx(645.5773, abs=1e-4)


def test_micrograd_sanity_check_against_pytorch():
    torch = pytest.importorskip("torch")
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xt = torch.tensor([-4.0], dtype=torch.float64, requires_grad=True)
    zt = 2 * xt + 2 + xt
    qt = zt.relu() + zt * xt
    ht = (zt * zt).relu()
    yt = ht + qt + qt * xt
    yt.backward()
    assert y.data == yt.item()
    assert x.grad == xt.grad.item()


# --- the ops, each with its local derivative ------------------------------------------------


def test_each_op_forward_and_local_derivative():
    a, b = Value(3.0), Value(-2.0)
    cases = [
        (a + b, 1.0, (1.0, 1.0)),
        (a - b, 5.0, (1.0, -1.0)),
        (a * b, -6.0, (-2.0, 3.0)),
        (a / b, -1.5, (-0.5, -0.75)),
        (a**2, 9.0, (6.0,)),
        (-a, -3.0, (-1.0,)),
        (a.exp(), math.exp(3.0), (math.exp(3.0),)),
        (a.log(), math.log(3.0), (1 / 3.0,)),
        (b.relu(), 0.0, (0.0,)),
        (a.relu(), 3.0, (1.0,)),
        (a.tanh(), math.tanh(3.0), (1 - math.tanh(3.0) ** 2,)),
        (2 + a, 5.0, (1.0, 1.0)),
        (2 - a, -1.0, (1.0, -1.0)),
        (2 * a, 6.0, (3.0, 2.0)),
        (6 / a, 2.0, (1 / 3.0, -2 / 3.0)),
    ]
    for node, data, locals_ in cases:
        assert node.data == pytest.approx(data)
        assert node.local_grads == pytest.approx(locals_)


def test_relu_derivative_at_zero_is_zero():
    x = Value(0.0)
    y = x.relu()
    y.backward()
    assert (y.data, x.grad) == (0.0, 0.0)


def test_log_of_non_positive_is_a_domain_error_unless_clamped():
    for bad in (0.0, -1.0):
        with pytest.raises(DomainError, match="log"):
            Value(bad).log()
        with pytest.raises(ValueError):
            Value(bad).log()
    clamped = Value(0.0).log(clamp=1e-10)
    assert clamped.data == math.log(0.0 + 1e-10)
    assert clamped.local_grads == (1 / (0.0 + 1e-10),)


def test_overflow_division_and_power_errors_are_clear():
    with pytest.raises(NumericOverflowError, match="exp\\(1000\\)"):
        Value(1000.0).exp()
    with pytest.raises(DivisionByZeroError, match="division by zero"):
        Value(1.0) / 0
    with pytest.raises(DivisionByZeroError):
        Value(0.0) ** -1
    with pytest.raises(DomainError, match="fractional power"):
        Value(-8.0) ** (1 / 3)
    with pytest.raises(NumericOverflowError):
        Value(1e200) ** 2
    with pytest.raises(DomainError, match="derivative"):
        Value(0.0) ** 0.5
    assert (Value(0.0) ** 0).local_grads == (0.0,)


def test_int_powers_never_build_huge_integers():
    with pytest.raises(NumericOverflowError):
        Value(2) ** (10**9)


def test_comparisons_use_data_and_identity_hashing():
    a, b = Value(1.0), Value(2.0)
    assert a < b and b > a and a <= 1.0 and b >= 2.0 and a < 1.5
    twin = Value(1.0)
    assert a != twin and len({a, twin}) == 2


def test_reference_style_division_matches_reference_numerics():
    a, b = Value(0.3), Value(0.7)
    reference = a * b**-1  # the reference program's a / b
    assert reference.data == 0.3 * 0.7**-1
    assert reference.children[1].local_grads == (-1 * 0.7 ** (-1 - 1),)


def test_sum_and_dot_are_left_folds_with_the_right_gradients():
    rng = random.Random(7)
    ws = [Value(rng.gauss(0, 1)) for _ in range(16)]
    xs = [Value(rng.gauss(0, 1)) for _ in range(16)]
    total = Value.sum(xs)
    assert total.data == sum(x.data for x in xs)
    dot = Value.dot(ws, xs)
    chained = sum(w * x for w, x in zip(ws, xs, strict=True))  # the reference's way
    assert dot.data == chained.data
    dot.backward()
    assert [w.grad for w in ws] == [x.data for x in xs]
    assert [x.grad for x in xs] == [w.data for w in ws]
    with pytest.raises(ValueError):
        Value.dot(ws, xs[:3])


def test_shared_nodes_accumulate_and_zero_grad_clears_the_graph():
    x = Value(3.0)
    y = x * x + x  # x used three times: 2x + 1 = 7
    y.backward()
    assert x.grad == 7.0
    zero_grad(y)
    assert all(node.grad == 0.0 for node in topological_order(y))
    y.backward()
    assert x.grad == 7.0


def test_a_million_node_chain_backward_without_recursion_error():
    # The cyclic GC would rescan the growing heap over and over while a million nodes are
    # made; it has nothing to collect here, so keep it out of the timing of this test.
    gc.disable()
    try:
        leaf = Value(1.0)
        node = leaf
        for _ in range(1_000_000):
            node = Value(node.data * 1.0, (node,), (1.0,), "id")
        node.backward()
    finally:
        gc.enable()
    assert leaf.grad == 1.0 and node.grad == 1.0


def test_topological_order_matches_the_recursive_build_topo():
    built = find_preset("7").build()
    order, visited = [], set()

    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v.children:
                build_topo(child)
            order.append(v)

    build_topo(built.root)
    assert topological_order(built.root) == order
    assert forward_order(built.root) == order


@pytest.mark.parametrize("key", ["1", "2", "7"])
def test_backward_steps_run_to_the_end_equal_backward(key):
    built = find_preset(key).build()
    nodes = topological_order(built.root)
    built.root.backward()
    expected = [node.grad for node in nodes]
    zero_grad(built.root)
    steps = list(backward_steps(built.root))
    assert [node.grad for node in nodes] == expected
    assert len(steps) == edge_count(built.root)
    for index, step in enumerate(steps):
        assert step.index == index
        assert step.contribution == step.local_grad * step.node_grad
        assert step.child_grad_after == step.child_grad_before + step.contribution
        assert step.node.children[step.edge] is step.child


def test_networkx_and_dot_export():
    a, b = Value(2.0, name="a"), Value(-3.0, name="b")
    out = a * b + a
    out.name = "out"
    out.backward()
    graph = to_networkx(out)
    assert graph.number_of_nodes() == 4
    labels = {data["label"]: data for _, data in graph.nodes(data=True)}
    assert labels["a"]["grad"] == -2.0 and labels["out"]["op"] == "+"
    assert labels["*"]["data"] == -6.0
    dot = to_dot(out)
    assert dot.startswith("digraph") and dot.count("->") == 4
    assert 'label="a | data 2.0000 | grad -2.0000"' in dot
