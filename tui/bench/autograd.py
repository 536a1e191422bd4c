"""Autograd: forward+backward of a ~100k-node graph against the reference program's Value class,
and the Backprop screen's repaint time for one step of a 20,000-node graph.

The peer is the reference program's engine as written there (closure-free local grads, but a
recursive build_topo and `sum()` chains of two-input adds); it lives here so the comparison
never needs ../shared. Both sides build the same dense ReLU network in the same op order.
"""

from __future__ import annotations

import gc
import math
import random
import sys
import time

from ...engine.autograd import Value
from ...engine.backprop_presets import TinyGPTConfig, build_microgpt_token
from ...engine.backprop_stepper import GraphStepper
from ...engine.graph_layout import STYLES, layout_graph
from ..widgets.dag_view import Highlight, render_viewport
from ..widgets.graph_models import StepperModel
from .reference_value import ReferenceValue
from .runner import Benchmark, Comparison, Goal, Measurement, side_by_side

WIDTH, LAYERS = 40, 20  # 40×40 weights per layer, 20 layers: ≈ 100k nodes op by op


def _weights(seed: int = 0) -> tuple[list[float], list[list[list[float]]]]:
    rng = random.Random(seed)
    inputs = [rng.uniform(-1, 1) for _ in range(WIDTH)]
    layers = [
        [[rng.gauss(0, 1 / math.sqrt(WIDTH)) for _ in range(WIDTH)] for _ in range(WIDTH)]
        for _ in range(LAYERS)
    ]
    return inputs, layers


def _network(value_class, inputs, layers, fused: bool):
    """Forward pass; returns (output node, every weight node)."""
    x = [value_class(v) for v in inputs]
    weights = []
    for layer in layers:
        rows = [[value_class(w) for w in row] for row in layer]
        weights.extend(w for row in rows for w in row)
        if fused:
            x = [Value.dot(row, x).relu() for row in rows]
        else:
            x = [sum(w * xi for w, xi in zip(row, x, strict=True)).relu() for row in rows]
    return sum(x), weights


def _timed(value_class, fused: bool, data) -> tuple[float, float]:
    """Seconds for forward + backward, and the first weight's grad (to check both agree)."""
    gc.collect()  # the previous round's graph must not be collected inside this one's timing
    start = time.perf_counter()
    out, weights = _network(value_class, *data, fused=fused)
    out.backward()
    return time.perf_counter() - start, weights[0].grad


def _engine_vs_reference(rounds: int) -> list[Comparison]:
    data = _weights()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))  # the peer's build_topo recurses ~900 deep
    try:
        _, ours_grad = _timed(Value, False, data)
        _, fused_grad = _timed(Value, True, data)
        _, peer_grad = _timed(ReferenceValue, False, data)
        nodes = _count_nodes(_network(Value, *data, fused=False)[0])
        agree = max(abs(ours_grad - peer_grad), abs(fused_grad - peer_grad))
        note = f"{nodes:,} nodes op by op; first weight's grad differs by {agree:.1e}"
        same_ops = Comparison(
            label="forward+backward, ~100k-node ReLU net, same ops",
            ours="engine.autograd.Value",
            peer="reference program's Value",
            unit="s",
            goal=None,  # parity expected: the speed comes from fused nodes, measured below
            note=note,
        )
        fused = Comparison(
            label="forward+backward, same net with fused dot nodes",
            ours="engine.autograd.Value.dot",
            peer="reference program's Value",
            unit="s",
            goal=Goal(2.5, "≥ 2.5× faster (MicroGPT's scalar-backend goal)"),
            note="one node per dot product instead of a chain of 2-input adds",
        )
        return [
            side_by_side(same_ops, lambda: _timed(Value, False, data)[0],
                         lambda: _timed(ReferenceValue, False, data)[0], rounds),
            side_by_side(fused, lambda: _timed(Value, True, data)[0],
                         lambda: _timed(ReferenceValue, False, data)[0], rounds),
        ]
    finally:
        sys.setrecursionlimit(limit)


def _count_nodes(root: Value) -> int:
    from ...engine.autograd import topological_order

    return len(topological_order(root))


def _repaint(rounds: int) -> Measurement:
    """Per step: apply one backward edge update, highlight its route, draw a 120×40 viewport."""
    # A MicroGPT layer at n_embed 36 over 8 positions: just over 20,000 nodes.
    config = TinyGPTConfig(n_embed=36, n_head=4, vocab_size=27, block_size=8)
    built = build_microgpt_token(config, tokens=tuple(range(9)))
    stepper = GraphStepper(built.root)
    layout = layout_graph(stepper.children, STYLES[0])
    width, height = 120, 40
    measurement = Measurement(
        label=f"one step repainted, {len(stepper.order):,}-node graph, 120×40 viewport",
        what="backward edge update + highlight + viewport render (no terminal)",
        unit="s",
        limit=0.050,
        at_most=True,
        note=f"{stepper.edge_total:,} edges; layout {layout.width}×{layout.height} cells",
    )
    stepper.seek(stepper.forward_total)
    steps = max(rounds, 1) * 20
    for _ in range(steps):
        start = time.perf_counter()
        stepper.seek(stepper.position + 1)
        child, parent = stepper.current_edge
        route = {(x, y) for x, y, _ in layout.route(child, parent)}
        highlight = Highlight(parent, frozenset(stepper.children[parent]), (child, parent),
                              None, route)
        bx, by = layout.box(parent)
        render_viewport(layout, StepperModel(stepper), highlight, max(bx - width // 2, 0),
                        max(by - height // 2, 0), width, height)
        measurement.samples.append(time.perf_counter() - start)
    return measurement


def run(rounds: int) -> list[Comparison | Measurement]:
    return [*_engine_vs_reference(rounds), _repaint(rounds)]


BENCHMARK = Benchmark(
    name="autograd",
    default_rounds=5,
    run=run,
)
