"""Forward, then backward, one step at a time over a built graph: the state the screen replays.

The forward pass reveals one computed node per step in evaluation order (the values are already
known; stepping shows the order they are computed in). The backward pass applies one edge
update per step through `backward_steps()`, so the grads shown are the engine's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .autograd import BackwardStep, Value, backward_steps, topological_order, zero_grad


@dataclass(frozen=True)
class ForwardStep:
    """Node `node` (index `position` in topological order) was evaluated from its children."""

    index: int
    position: int
    node: Value


class GraphStepper:
    """Steps a graph forward node by node, then backward edge by edge.

    Nodes are numbered by their position in topological order; `children[i]` and `parents[i]`
    are index tuples, the plain data the layout and the widgets use.
    """

    def __init__(self, root: Value) -> None:
        self.root = root
        self.order = topological_order(root)
        self.position = {node: i for i, node in enumerate(self.order)}
        self.children = [tuple(self.position[c] for c in node.children) for node in self.order]
        parents: list[list[int]] = [[] for _ in self.order]
        for i, kids in enumerate(self.children):
            for child in kids:
                parents[child].append(i)
        self.parents = [tuple(p) for p in parents]
        self.computed = [i for i, kids in enumerate(self.children) if kids]
        self.edge_total = sum(len(kids) for kids in self.children)
        self.reset()

    def reset(self) -> None:
        """Back to before the forward pass: nothing computed, every grad 0."""
        zero_grad(self.root)
        self.forward_done = 0
        self.backward_done = 0
        self.last_forward: ForwardStep | None = None
        self.last_backward: BackwardStep | None = None
        self.received = [0] * len(self.order)  # edge updates each node has received so far
        self._steps: Iterator[BackwardStep] | None = None

    @property
    def forward_total(self) -> int:
        return len(self.computed)

    @property
    def phase(self) -> str:
        """"forward", "backward" (some updates left) or "done"."""
        if self.forward_done < self.forward_total:
            return "forward"
        if self.backward_done < self.edge_total or self._steps is None:
            return "backward"
        return "done"

    def is_evaluated(self, position: int) -> bool:
        """Whether node `position` has a value yet (leaves always do)."""
        if not self.children[position]:
            return True
        if self.forward_done >= self.forward_total:
            return True
        return position <= self.computed[self.forward_done - 1] if self.forward_done else False

    def step_forward(self) -> ForwardStep | None:
        """Evaluate the next node; None when the forward pass is complete."""
        if self.forward_done >= self.forward_total:
            return None
        position = self.computed[self.forward_done]
        self.last_forward = ForwardStep(self.forward_done, position, self.order[position])
        self.forward_done += 1
        return self.last_forward

    def step_backward(self) -> BackwardStep | None:
        """Apply the next edge update (finishing the forward pass first); None when done."""
        self.forward_done = self.forward_total
        if self._steps is None:
            # seeds root.grad = 1.0 on the first next(), even for a lone leaf with no edges
            self._steps = backward_steps(self.root)
        step = next(self._steps, None)
        if step is None:
            return None
        self.backward_done += 1
        self.received[self.position[step.child]] += 1
        self.last_backward = step
        return step

    def step(self) -> ForwardStep | BackwardStep | None:
        """The next step of either pass, as Space's playback takes them."""
        if self.forward_done < self.forward_total:
            return self.step_forward()
        return self.step_backward()

    def run_to_end(self) -> None:
        """Finish both passes."""
        while self.step_backward() is not None:
            pass

    @property
    def current(self) -> int | None:
        """The node the last step was about: the one evaluated, or the one whose grad flowed."""
        if self.phase != "forward" and self.last_backward is not None:
            return self.position[self.last_backward.node]
        if self.last_forward is not None:
            return self.last_forward.position
        return None

    @property
    def current_edge(self) -> tuple[int, int] | None:
        """(child, parent) of the last edge update, while the backward pass runs."""
        step = self.last_backward
        if step is None:
            return None
        return self.position[step.child], self.position[step.node]


def copy_graph(stepper: GraphStepper) -> dict[Value, Value]:
    """A fresh, identically wired Value for each node of stepper's graph: {original: copy}.

    Grads start at 0 and the original is untouched, so a worker can run passes on the copy
    while the screen shows the original. A stepper over the copy numbers nodes the same way.
    """
    copies: dict[Value, Value] = {}
    for node in stepper.order:  # children come before the nodes made from them
        copies[node] = Value(node.data, tuple(copies[child] for child in node.children),
                             node.local_grads, node.op, node.name)
    return copies
