"""A small, safe language for autograd programs: assignments, then one result.

    x = 2.0
    w = -3.0
    y = tanh(w * x + 1)
    y * y

Numbers, names, `+ - * / **`, unary minus, parentheses and calls to exp/log/relu/tanh. The text
is parsed with Python's `ast` and every node is checked against a whitelist; nothing is ever
passed to eval or exec. Evaluation walks the tree with an explicit stack (no recursion), folds
constant arithmetic in floats (so `9**9**9` overflows at once instead of building a huge
integer) and builds a `Value` graph for everything that depends on a variable.

Every error is a `ProgramError` carrying line, column (both 1-based) and the reason.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import sys
from dataclasses import dataclass, field

from .autograd import (
    DivisionByZeroError,
    DomainError,
    NumericError,
    Value,
    format_base,
    format_number,
)

MAX_SOURCE_CHARS = 100_000
MAX_NODES = 10_000
MAX_DEPTH = 200

FUNCTIONS = ("exp", "log", "relu", "tanh")
# One table for both evaluation (on Values) and constant folding (on floats).
ARITHMETIC = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}

# Syntax a user might try, named in words for the error message.
_SYNTAX_NAMES: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "lambda",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Dict: "dict",
    ast.Set: "set",
    ast.Compare: "comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "conditional expression",
    ast.JoinedStr: "f-string",
    ast.Starred: "starred expression",
    ast.NamedExpr: "walrus assignment (:=)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.FunctionDef: "function definition",
    ast.AsyncFunctionDef: "function definition",
    ast.ClassDef: "class definition",
    ast.AugAssign: "augmented assignment (write y = x + 1 instead)",
    ast.AnnAssign: "annotated assignment",
    ast.For: "for loop",
    ast.While: "while loop",
    ast.If: "if statement",
    ast.With: "with statement",
    ast.Try: "try statement",
    ast.Return: "return",
    ast.Delete: "del",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.Raise: "raise",
    ast.Assert: "assert",
    ast.Pass: "pass",
    ast.Break: "break",
    ast.Continue: "continue",
    ast.Match: "match statement",
}

_OPERATOR_NAMES: dict[type, str] = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Not: "not",
    ast.Invert: "~",
}


class ProgramError(ValueError):
    """A program that cannot be parsed or evaluated: where (line:column, 1-based) and why."""

    def __init__(self, line: int, column: int, reason: str) -> None:
        super().__init__(f"{line}:{column}: {reason}")
        self.line = line
        self.column = column
        self.reason = reason


@dataclass
class Program:
    """An evaluated program: the named values in assignment order and the result node."""

    source: str
    variables: dict[str, Value] = field(default_factory=dict)
    result: Value | None = None
    result_name: str = "result"

    @property
    def named_values(self) -> list[tuple[str, Value]]:
        """Every variable, then the result when it is not already one of them."""
        rows = list(self.variables.items())
        if self.result is not None and all(v is not self.result for _, v in rows):
            rows.append((self.result_name, self.result))
        return rows


def _error_at(node: ast.AST, reason: str) -> ProgramError:
    return ProgramError(getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1, reason)


def check_nesting(source: str, max_depth: int = MAX_DEPTH) -> None:
    """Reject bracket nesting deeper than max_depth before Python's parser sees it.

    Python's own parser gives up on deep nesting with a RecursionError or MemoryError; this
    finds the first bracket too deep, with its position, in one pass over the text.
    """
    depth = 0
    line, column = 1, 0
    in_comment = False
    for char in source:
        column += 1
        if char == "\n":
            line, column, in_comment = line + 1, 0, False
        elif in_comment:
            continue
        elif char == "#":
            in_comment = True
        elif char in "([{":
            depth += 1
            if depth > max_depth:
                raise ProgramError(
                    line, column, f"nesting too deep: more than {max_depth} levels of brackets"
                )
        elif char in ")]}":
            depth = max(depth - 1, 0)


def _parse(source: str, max_depth: int) -> ast.Module:
    if len(source) > MAX_SOURCE_CHARS:
        raise ProgramError(
            1, 1, f"program too long: {len(source):,} characters (limit {MAX_SOURCE_CHARS:,})"
        )
    if "\x00" in source:
        line = source.count("\n", 0, source.index("\x00")) + 1
        raise ProgramError(line, 1, "the program contains a NUL character")
    check_nesting(source, max_depth)
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as error:
        reason = error.msg or "invalid syntax"
        line, column = error.lineno or 1, error.offset or 1
        too_long = _literal_too_long(source) if _LONG_LITERAL in reason else None
        raise too_long or _syntax_error(source, line, column, reason) from None
    except (RecursionError, MemoryError):
        raise ProgramError(
            1, 1, "too deeply nested or too long an expression for the parser: split it over "
            "several assignments",
        ) from None
    except ValueError as error:  # how some Python versions refuse a too long literal
        too_long = _literal_too_long(source) if _LONG_LITERAL in str(error) else None
        raise too_long or ProgramError(1, 1, f"syntax error: {error}") from None
    _check_depth(tree, max_depth)
    return tree


# Python refuses an integer literal longer than sys.get_int_max_str_digits() (4300) with advice
# for programmers (call sys.set_int_max_str_digits()); the user is told which literal and why.
_LONG_LITERAL = "integer string conversion"


def _literal_too_long(source: str) -> ProgramError | None:
    """The first integer literal over Python's digit limit, as an error; None if there is none."""
    limit = sys.get_int_max_str_digits()
    match = re.search(rf"\d[\d_]{{{limit},}}", source)
    if match is None:
        return None
    line = source.count("\n", 0, match.start()) + 1
    column = match.start() - (source.rfind("\n", 0, match.start()) + 1) + 1
    digits = len(match.group().replace("_", ""))
    return ProgramError(
        line, column, f"number too long: {digits:,} digits (a float holds numbers up to about "
        "1.8e308)"
    )


# Python's parser words its errors for Python programmers ("Maybe you meant '==' or ':='
# instead of '='?", "use an 0o prefix for octal integers"). _syntax_error says the same thing in
# this language's terms: where, what was found and what was expected there.
_LANGUAGE = "numbers, names, + - * / **, ( ), = and exp log relu tanh"
_OPERAND_START = "a number, a name or '('"
_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?|\.\d+|\*\*|\S")


def _syntax_error(source: str, line: int, column: int, message: str) -> ProgramError:
    """A SyntaxError from Python's parser, reworded for the language (line, column 1-based)."""
    lines = source.splitlines() or [""]
    text = lines[min(max(line, 1), len(lines)) - 1]
    column, reason = _syntax_reason(text, max(column, 1), message)
    return ProgramError(line, column, f"syntax error: {reason}")


def _syntax_reason(text: str, column: int, message: str) -> tuple[int, str]:
    code = text.split("#", 1)[0].rstrip()
    if "was never closed" in message:
        bracket = message[1]
        return column, f"'{bracket}' is never closed: expected '{_BRACKETS.get(bracket, ')')}'"
    if message.startswith("unmatched"):
        return column, f"'{message[-2]}' has no matching opening bracket"
    if "indent" in message:
        return 1, "unexpected indent: start every line at the left margin"
    if "string literal" in message:
        return column, f"unexpected quote: the language has no text, only {_LANGUAGE}"
    if message.startswith("cannot assign to") or "assignment" in message:
        return column, "the left of '=' must be one plain name: write name = expression"
    augmented = re.match(r"(\*\*|[-+*/])=", text[column - 1:])
    if augmented is not None:
        operator_ = augmented.group(1)
        return column, (f"'{augmented.group()}' is not part of the language: each name is "
                        f"assigned once, so write a new one, e.g. y = x {operator_} 2")
    tokens = [(match.start() + 1, match.group()) for match in _WORD.finditer(code)]
    keyword = next(((start, word) for start, word in tokens
                    if word in _PYTHON_WORDS and start <= column), None)
    if keyword is not None:
        start, word = keyword
        return start, (f"'{word}' is not part of the language: a line is name = expression, "
                       "and the last line may be the result alone")
    if "literal" in message:  # 3x, 1e, 0x, 012
        start = max((s for s, _ in tokens if s <= column), default=column)
        return start, ("malformed number: write decimal numbers such as 3, 0.5 or 1e-3, and "
                       "a product as 3 * x")
    if column > len(code):
        last = tokens[-1][1] if tokens else ""
        return len(code) + 1, f"the line ends after '{last}': expected {_OPERAND_START}"
    found = next((word for start, word in tokens if start == column), code[column - 1])
    before = [word for start, word in tokens if start < column]
    if not re.fullmatch(r"[A-Za-z0-9_.()+\-*/=;]", found[0]):
        return column, f"unexpected character '{found}': the language has {_LANGUAGE}"
    previous = before[-1] if before else ""
    if previous and (previous[-1].isalnum() or previous[-1] in "_.)"):
        return column, (f"expected an operator (+ - * / **) or the end of the line after "
                        f"'{previous}', found '{found}'")
    if previous:
        return column, f"expected {_OPERAND_START} after '{previous}', found '{found}'"
    return column, "expected name = expression, or the result alone on the last line"


# Python statements a user might type; none of them is part of the language.
_PYTHON_WORDS = frozenset(
    {"if", "else", "elif", "for", "while", "def", "return", "import", "from", "print",
     "lambda", "class", "and", "or", "not", "in", "is", "with", "try", "except", "pass",
     "None", "True", "False", "del", "global", "yield", "assert", "raise", "let", "var"}
)


def _check_depth(tree: ast.Module, max_depth: int) -> None:
    """Nesting as a person sees it: a left-leaning chain a + b + c + … stays one level deep."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise _error_at(node, f"nesting too deep: more than {max_depth} levels")
        if isinstance(node, ast.BinOp):
            stack.append((node.left, depth))
            stack.append((node.right, depth + 1))
            continue
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1))


class _Evaluator:
    """Turns checked expression trees into floats (constants) or Values (everything else)."""

    def __init__(self, variables: dict[str, Value], max_nodes: int) -> None:
        self.variables = variables
        self.max_nodes = max_nodes
        self.nodes = 0

    def constant(self, value: float, where: ast.AST) -> Value:
        return self.count(Value(value), where)

    def count(self, value: Value, where: ast.AST) -> Value:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise _error_at(where, f"program too large: more than {self.max_nodes:,} nodes")
        if not math.isfinite(value.data):
            raise _error_at(where, "overflow: the result is too large for a float")
        if not all(math.isfinite(local) for local in value.local_grads):
            raise _error_at(where, "overflow: a local derivative is too large for a float")
        return value

    def evaluate(self, root: ast.expr) -> float | Value:
        """Post-order walk with an explicit stack: results of children are on `results`."""
        results: list[float | Value] = []
        stack: list[tuple[ast.expr, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                results.append(self.combine(node, results))
                continue
            stack.append((node, True))
            for child in reversed(self.operands(node)):
                stack.append((child, False))
        return results[0]

    def operands(self, node: ast.expr) -> list[ast.expr]:
        """Check one node against the whitelist and return its sub-expressions."""
        if isinstance(node, ast.Constant):
            return []
        if isinstance(node, ast.Name):
            return []
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise _error_at(node, f"unsupported operator: {_OPERATOR_NAMES[type(node.op)]}")
            return [node.operand]
        if isinstance(node, ast.BinOp):
            if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
                name = _OPERATOR_NAMES.get(type(node.op), type(node.op).__name__)
                raise _error_at(node, f"unsupported operator: {name}")
            return [node.left, node.right]
        if isinstance(node, ast.Call):
            return self.call_argument(node)
        raise _error_at(node, f"unsupported syntax: {_describe(node)}")

    def call_argument(self, node: ast.Call) -> list[ast.expr]:
        if not isinstance(node.func, ast.Name):  # exp(1)(2), (x)(2): only names can be called
            raise _error_at(node, f"only {', '.join(FUNCTIONS)} can be called")
        name = node.func.id
        if name not in FUNCTIONS:
            raise _error_at(
                node, f"unknown function {name!r}; available: {', '.join(FUNCTIONS)}"
            )
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _error_at(node, f"{name}() takes exactly one argument")
        return [node.args[0]]

    def combine(self, node: ast.expr, results: list[float | Value]) -> float | Value:
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.lookup(node)
        if isinstance(node, ast.UnaryOp):
            operand = results.pop()
            if isinstance(node.op, ast.UAdd):
                return operand
            return -operand if isinstance(operand, float) else self.count(-operand, node)
        if isinstance(node, ast.BinOp):
            right = results.pop()
            left = results.pop()
            return self.binary(node, left, right)
        argument = results.pop()
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        if isinstance(argument, float):
            argument = self.constant(argument, node)
        try:
            return self.count(getattr(argument, node.func.id)(), node)
        except NumericError as error:
            raise _error_at(node, str(error)) from None

    def number(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "string" if isinstance(value, (str, bytes)) else type(value).__name__
            raise _error_at(node, f"unsupported syntax: {kind} literal")
        try:
            number = float(value)
        except OverflowError:
            raise _error_at(node, "overflow: the number is too large for a float") from None
        if not math.isfinite(number):
            raise _error_at(node, "overflow: the number is too large for a float")
        return number

    def lookup(self, node: ast.Name) -> Value:
        if node.id in self.variables:
            return self.variables[node.id]
        if node.id in FUNCTIONS:
            raise _error_at(node, f"{node.id} is a function: call it, e.g. {node.id}(x)")
        raise _error_at(node, f"unknown name {node.id!r}")

    def binary(self, node: ast.BinOp, left: float | Value, right: float | Value) -> float | Value:
        op = node.op
        if isinstance(op, ast.Pow) and isinstance(right, Value):
            raise _error_at(
                node.right, "the exponent of ** must be a number, not an expression of variables"
            )
        if isinstance(left, float) and isinstance(right, float):
            return self.fold(node, left, right)
        if isinstance(left, float):
            left = self.constant(left, node.left)
        if isinstance(right, float) and not isinstance(op, ast.Pow):
            right = self.constant(right, node.right)
        try:
            result = ARITHMETIC[type(op)](left, right)
        except NumericError as error:
            raise _error_at(node, str(error)) from None
        return self.count(result, node)

    def fold(self, node: ast.BinOp, left: float, right: float) -> float:
        """Constant arithmetic in floats: float ** raises OverflowError rather than growing."""
        op = node.op
        try:
            if isinstance(op, ast.Div) and right == 0:
                raise DivisionByZeroError(f"division by zero: {format_number(left)} / 0")
            if isinstance(op, ast.Pow) and left == 0 and right < 0:
                raise DivisionByZeroError(f"division by zero: 0 ** {format_number(right)}")
            result = ARITHMETIC[type(op)](left, right)
            if isinstance(result, complex):  # only ** makes one: (-8) ** 0.5
                raise DomainError(
                    f"domain error: {format_base(left)} ** "
                    f"{format_number(right)}: a negative number to a "
                    "fractional power is not a real number"
                )
        except OverflowError:
            raise _error_at(node, "overflow: the result is too large for a float") from None
        except NumericError as error:
            raise _error_at(node, str(error)) from None
        if not math.isfinite(result):
            raise _error_at(node, "overflow: the result is too large for a float")
        return result


def _describe(node: ast.AST) -> str:
    return _SYNTAX_NAMES.get(type(node), type(node).__name__)


def parse_program(
    source: str, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH
) -> Program:
    """Parse and evaluate a program into a Value graph.

    Each `name = expression` line binds a name (once); a number assigned to a name is an input
    leaf. The last line is the result: a bare expression, or the last assignment. Raises
    ProgramError (with line:column) for anything outside the language or any numeric failure.
    """
    source = source.removeprefix("\ufeff")  # a byte order mark some editors save: not code
    tree = _parse(source, max_depth)
    if not tree.body:
        raise ProgramError(1, 1, "empty program: write at least one expression")
    variables: dict[str, Value] = {}
    evaluator = _Evaluator(variables, max_nodes)
    program = Program(source, variables)
    last = len(tree.body) - 1
    for position, statement in enumerate(tree.body):
        if isinstance(statement, ast.Assign):
            name, value = _assignment(statement, evaluator)
            variables[name] = value
            program.result, program.result_name = value, name
        elif isinstance(statement, ast.Expr):
            if position != last:
                raise _error_at(
                    statement, "only the last line can be a bare expression (the result)"
                )
            value = _as_value(evaluator.evaluate(statement.value), evaluator, statement)
            program.result, program.result_name = value, "result"
        else:
            raise _error_at(statement, f"unsupported syntax: {_describe(statement)}")
    return program


def _assignment(statement: ast.Assign, evaluator: _Evaluator) -> tuple[str, Value]:
    if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
        raise _error_at(statement, "unsupported syntax: assign to exactly one plain name")
    name = statement.targets[0].id
    if name in FUNCTIONS:
        raise _error_at(statement, f"{name} is a function name and cannot be assigned")
    if name in evaluator.variables:
        raise _error_at(
            statement, f"{name!r} is already assigned; give the new value a new name"
        )
    value = _as_value(evaluator.evaluate(statement.value), evaluator, statement)
    if value.name is None:
        value.name = name
    return name, value


def _as_value(value: float | Value, evaluator: _Evaluator, where: ast.AST) -> Value:
    return evaluator.constant(value, where) if isinstance(value, float) else value
