"""Forward, then backward, as one timeline the screen can play, rewind and seek.

Position 0 is before the forward pass; positions 1 … forward_total reveal one computed node
each in evaluation order (the values are already known: stepping shows the order they are
computed in); the next edge_total positions apply one edge update each through the engine's
own `backward_steps()`, so the grads shown are the engine's. `length` = forward_total +
edge_total.

Going back undoes instead of recomputing: every applied edge update is kept (a BackwardStep
records the child's grad before and after), so undoing one restores the grad it overwrote and
applying it again restores the grad it wrote — both exact, and a step back on a graph of
tens of thousands of nodes costs a few assignments. The engine's generator is only advanced past
the recorded history, never restarted.
"""

from __future__ import annotations

from dataclasses import dataclass

from .autograd import BackwardStep, Value, backward_steps, topological_order, zero_grad
from .backprop_presets import BuiltGraph


@dataclass(frozen=True)
class ForwardStep:
    """Node `node` (index `node_index` in topological order) was evaluated from its children;
    it is forward step number `index` (from 0)."""

    index: int
    node_index: int
    node: Value


class GraphStepper:
    """Steps a graph forward node by node, then backward edge by edge, and back again.

    Nodes are numbered by their position in topological order (`index_of`); `children[i]` and
    `parents[i]` are index tuples, the plain data the layout and the widgets use. `position`,
    `length` and `seek` make it a playback stepper (tui/kit/playback.py).
    """

    def __init__(self, root: Value) -> None:
        self.root = root
        self.order = topological_order(root)
        self.index_of = {node: i for i, node in enumerate(self.order)}
        self.children = [tuple(self.index_of[c] for c in node.children) for node in self.order]
        parents: list[list[int]] = [[] for _ in self.order]
        for i, kids in enumerate(self.children):
            for child in kids:
                parents[child].append(i)
        self.parents = [tuple(p) for p in parents]
        self.computed = [i for i, kids in enumerate(self.children) if kids]
        self.edge_total = sum(len(kids) for kids in self.children)
        zero_grad(root)
        self.forward_done = 0
        self.backward_done = 0
        self.received = [0] * len(self.order)  # edge updates each node has received so far
        self._history: list[BackwardStep] = []  # every edge update the engine has yielded
        self._steps = backward_steps(root)  # seeds root.grad = 1.0 on its first next()

    @property
    def forward_total(self) -> int:
        return len(self.computed)

    @property
    def length(self) -> int:
        """How many steps the timeline has: forward evaluations, then edge updates."""
        return self.forward_total + self.edge_total

    @property
    def position(self) -> int:
        return self.forward_done + self.backward_done

    def unrecorded(self, position: int) -> int:
        """How many edge updates the engine has yet to compute to reach `position` (seeking
        within what was already computed is cheap; beyond it, each update runs the engine)."""
        return max(0, position - self.forward_total - len(self._history))

    def seek(self, position: int) -> None:
        """Move to `position` (clamped to 0 … length): forward by applying steps, backward by
        undoing them."""
        position = max(0, min(position, self.length))
        target_backward = max(0, position - self.forward_total)
        while self.backward_done > target_backward:
            self._undo_edge()
        if target_backward == 0:
            self.forward_done = position
            return
        self.forward_done = self.forward_total
        while self.backward_done < target_backward:
            self._apply_edge()

    def _apply_edge(self) -> None:
        done = self.backward_done
        if done < len(self._history):
            step = self._history[done]
            if done == 0:
                self.root.grad = 1.0  # the seed backward_steps() set the first time
            step.child.grad = step.child_grad_after
        else:
            step = next(self._steps)
            self._history.append(step)
        self.received[self.index_of[step.child]] += 1
        self.backward_done = done + 1

    def _undo_edge(self) -> None:
        self.backward_done -= 1
        step = self._history[self.backward_done]
        step.child.grad = step.child_grad_before
        self.received[self.index_of[step.child]] -= 1
        if self.backward_done == 0:
            self.root.grad = 0.0  # before the backward pass every grad is 0, the root's too

    @property
    def phase(self) -> str:
        """"forward", "backward" (some updates left) or "done"."""
        if self.forward_done < self.forward_total:
            return "forward"
        return "backward" if self.backward_done < self.edge_total else "done"

    def is_evaluated(self, node: int) -> bool:
        """Whether node `node` has a value yet (leaves always do)."""
        if not self.children[node] or self.forward_done >= self.forward_total:
            return True
        return self.forward_done > 0 and node <= self.computed[self.forward_done - 1]

    @property
    def last_forward(self) -> ForwardStep | None:
        """The latest forward evaluation (the last one once the backward pass runs)."""
        if self.forward_done == 0:
            return None
        node_index = self.computed[self.forward_done - 1]
        return ForwardStep(self.forward_done - 1, node_index, self.order[node_index])

    @property
    def last_backward(self) -> BackwardStep | None:
        """The latest edge update applied, if the backward pass has begun."""
        return self._history[self.backward_done - 1] if self.backward_done else None

    @property
    def current(self) -> int | None:
        """The node the latest step was about: the one evaluated, or the one whose grad flowed."""
        step = self.last_backward
        if step is not None:
            return self.index_of[step.node]
        forward = self.last_forward
        return forward.node_index if forward is not None else None

    @property
    def current_edge(self) -> tuple[int, int] | None:
        """(child, parent) of the latest edge update, while the backward pass runs."""
        step = self.last_backward
        if step is None:
            return None
        return self.index_of[step.child], self.index_of[step.node]


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


def finished_copy(stepper: GraphStepper, built: BuiltGraph) -> tuple[GraphStepper, BuiltGraph]:
    """`built`'s graph copied onto fresh Values and stepped to the end (for a worker thread:
    the graph on show is never touched). Node numbers, and so layouts and module groups, are
    the original's; stepping back from the end is as cheap as on the original."""
    copies = copy_graph(stepper)
    finished = GraphStepper(copies[stepper.root])
    finished.seek(finished.length)
    copied = BuiltGraph(
        finished.root,
        [(name, copies.get(value, value)) for name, value in built.named],
        {copies[value]: group for value, group in built.groups.items() if value in copies},
        built.group_order,
    )
    return finished, copied
