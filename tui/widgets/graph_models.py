"""What the DAG view's boxes read for an autograd graph: per node, or per model module."""

from __future__ import annotations

from ...engine.autograd import Value, node_label
from ...engine.backprop_stepper import GraphStepper
from ...engine.graph_layout import fit_label
from ...engine.step_explain import fmt

# The ops of unnamed nodes, as the glyphs a reader knows.
OP_GLYPHS = {"sum": "Σ", "neg": "−x"}


def reference(stepper: GraphStepper, value: Value, groups: dict[Value, str] | None = None
              ) -> str:
    """How the screen names a node: its name, a constant's value, else its op (with the model
    module it belongs to, when the graph has modules) and number: `× MLP #812`."""
    if value.name or not value.children:
        return node_label(value)
    number = stepper.index_of[value] + 1
    module = groups.get(value) if groups else None
    if module is None:
        return f"{value.op}#{number}"
    return f"{OP_GLYPHS.get(value.op, value.op)} {module} #{number}"


# Cells a compact box gives its label and its number (after the one-cell state marker).
SUMMARY_LABEL, SUMMARY_NUMBER = 10, 8


def short_number(value: float, width: int = SUMMARY_NUMBER) -> str:
    """The side panel's number (fmt), with fewer digits when it would not fit `width` cells."""
    text = fmt(value)
    digits = 3
    while len(text) > width and digits > 0:
        text = f"{value:.{digits}g}"
        digits -= 1
    return text


class StepperModel:
    """What each box of a Value graph reads: label, data (or ? before it is computed), grad."""

    def __init__(self, stepper: GraphStepper, groups: dict[Value, str] | None = None) -> None:
        self.stepper = stepper
        self.groups = groups

    def label(self, node: int) -> str:
        return reference(self.stepper, self.stepper.order[node], self.groups)

    def lines(self, node: int) -> tuple[str, str]:
        value = self.stepper.order[node]
        data = fmt(value.data) if self.stepper.is_evaluated(node) else "?"
        return f"d {data:>10}", f"g {fmt(value.grad):>10}"

    def summary(self, node: int) -> str:
        value = self.stepper.order[node]
        if self.stepper.phase == "forward":
            shown = short_number(value.data) if self.stepper.is_evaluated(node) else "?"
        else:
            shown = short_number(value.grad)
        label = fit_label(self.label(node), SUMMARY_LABEL)
        return f"{label:<{SUMMARY_LABEL}} {shown:>{SUMMARY_NUMBER}}"

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
