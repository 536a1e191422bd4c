"""`microgpt-tui grad "PROGRAM"`: evaluate a small program, run backward(), print data and grad."""

from __future__ import annotations

from ...engine.autograd import (
    NumericOverflowError,
    finite_backward_steps,
    format_number,
    node_label,
    to_dot,
)
from ...engine.expression import MAX_SOURCE_CHARS, ProgramError, parse_program
from ...engine.files import read_user_file
from .output import CLIError, CommandFailed, Output

HELP = (
    "Evaluate a program in the autograd expression language (assignments, then one result; "
    "numbers, names, + - * / **, exp/log/relu/tanh), run backward() from the result and print "
    "every named value with its data and grad. Lines may be separated by ';' or newlines. "
    'Example: microgpt-tui grad "x = 2; w = -3; y = tanh(w*x + 1)"'
)


def add_arguments(parser) -> None:
    parser.add_argument("program", nargs="?", help="the program text (or use --file)")
    parser.add_argument("--file", metavar="F", help="read the program from a file ('-' = stdin)")
    parser.add_argument("--dot", action="store_true", help="print the graph as Graphviz DOT")
    parser.add_argument(
        "--steps", action="store_true", help="also print every backward edge update in order"
    )


def _read_source(args) -> str:
    if (args.program is None) == (args.file is None):
        raise CLIError("give a PROGRAM or --file F (exactly one)")
    if args.file is None:
        return args.program
    # One byte per character at most past the parser's own limit: a longer file is refused
    # before it is read whole (a device such as /dev/zero is refused outright).
    data = read_user_file(
        args.file, expected="a program file", max_bytes=4 * MAX_SOURCE_CHARS, error=CLIError,
        too_large=lambda path, size: CLIError(
            f"{path}: program too long (over {MAX_SOURCE_CHARS:,} characters)"),
        allow_stdin=True,
    )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CLIError(f"{args.file}: not UTF-8 text, expected a program file") from None


def run(args, out: Output) -> int:
    source = _read_source(args)
    try:
        program = parse_program(source)
    except ProgramError as error:
        raise CLIError(str(error)) from None
    root = program.result
    assert root is not None
    try:
        _backward(root, args.steps, out)
    except NumericOverflowError as error:
        raise CommandFailed(str(error)) from None
    if args.dot:
        out.raw(to_dot(root))
        return 0
    rows = program.named_values
    width = max(len("name"), *(len(name) for name, _ in rows))
    out.text(f"{'name':<{width}}  {'data':>14}  {'grad':>14}  op")
    for name, value in rows:
        out.emit(
            {"name": name, "data": value.data, "grad": value.grad, "op": value.op},
            f"{name:<{width}}  {format_number(value.data):>14}  {format_number(value.grad):>14}  "
            f"{value.op or 'input'}",
        )
    return 0


def _backward(root, show_steps: bool, out: Output) -> None:
    """Run backward() edge by edge, printing each update when asked; stops at an overflow."""
    for step in finite_backward_steps(root):
        if not show_steps:
            continue
        out.emit(
            {
                "step": step.index,
                "node": node_label(step.node),
                "child": node_label(step.child),
                "local_grad": step.local_grad,
                "node_grad": step.node_grad,
                "contribution": step.contribution,
                "child_grad_after": step.child_grad_after,
            },
            f"{step.index:>4}  {node_label(step.child)}.grad += "
            f"{format_number(step.local_grad)} × {format_number(step.node_grad)} → "
            f"{format_number(step.child_grad_after)}"
            f"  (via {node_label(step.node)})",
        )
