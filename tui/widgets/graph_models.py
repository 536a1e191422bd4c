"""What the DAG view's boxes read for an autograd graph: per node, or per model module."""

from __future__ import annotations

from ...engine.autograd import Value, node_label
from ...engine.backprop_stepper import GraphStepper
from ...engine.step_explain import fmt


def reference(stepper: GraphStepper, value: Value) -> str:
    """How the screen names a node: its name, a constant's value, else its op and number."""
    if value.name or not value.children:
        return node_label(value)
    return f"{value.op}#{stepper.index_of[value] + 1}"


class StepperModel:
    """What each box of a Value graph reads: label, data (or ? before it is computed), grad."""

    def __init__(self, stepper: GraphStepper) -> None:
        self.stepper = stepper

    def label(self, node: int) -> str:
        return reference(self.stepper, self.stepper.order[node])

    def lines(self, node: int) -> tuple[str, str]:
        value = self.stepper.order[node]
        data = fmt(value.data) if self.stepper.is_evaluated(node) else "?"
        return f"d {data:>10}", f"g {fmt(value.grad):>10}"

    def summary(self, node: int) -> str:
        value = self.stepper.order[node]
        if self.stepper.phase == "forward":
            shown = fmt(value.data) if self.stepper.is_evaluated(node) else "?"
        else:
            shown = fmt(value.grad)
        return f"{self.label(node)[:4]:<4} {shown:>7}"  # 12 cells: the box's marker goes first

    def is_pending(self, node: int) -> bool:
        return not self.stepper.is_evaluated(node)


class GroupModel:
    """Boxes for whole modules: name, how many nodes, and the largest |grad| inside."""

    def __init__(self, stepper: GraphStepper, names: list[str], members: list[list[int]]) -> None:
        self.stepper = stepper
        self.names = names
        self.members = members

    def label(self, node: int) -> str:
        return self.names[node]

    def lines(self, node: int) -> tuple[str, str]:
        order = self.stepper.order
        largest = max((abs(order[i].grad) for i in self.members[node]), default=0.0)
        return f"{len(self.members[node])} nodes", f"max|g| {fmt(largest)}"

    def summary(self, node: int) -> str:
        return self.names[node]

    def is_pending(self, node: int) -> bool:
        return not all(self.stepper.is_evaluated(i) for i in self.members[node])
