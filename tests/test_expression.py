"""The safe expression language: what it accepts, every attack it refuses (with line:column
and a reason, never a crash or a hang), and the `grad` command built on it."""

from __future__ import annotations

import io
import json
import math

import pytest

from microgpt_tui.engine import expression
from microgpt_tui.engine.expression import MAX_DEPTH, ProgramError, parse_program
from microgpt_tui.tui.cli.main import main


def test_a_program_of_assignments_and_a_result():
    program = parse_program("x = 2.0\nw = -3.0\ny = tanh(w*x + 1)\ny * y")
    names = [name for name, _ in program.named_values]
    assert names == ["x", "w", "y", "result"]
    assert program.result.data == pytest.approx(math.tanh(-5.0) ** 2)
    program.result.backward()
    variables = program.variables
    t = math.tanh(-5.0)
    assert variables["x"].grad == pytest.approx(2 * t * (1 - t * t) * -3.0)
    assert variables["x"].op == "" and variables["x"].name == "x"


def test_semicolons_comments_powers_and_functions():
    program = parse_program("a = 4  # input\nb = a ** 0.5; c = exp(log(b)) - relu(-a)\nc / 2")
    assert program.result.data == pytest.approx(1.0)


def test_the_last_assignment_is_the_result():
    program = parse_program("x = 3\ny = x * x")
    assert program.result is program.variables["y"]
    assert program.result_name == "y"


def test_constant_arithmetic_folds_in_floats():
    program = parse_program("x = 2 ** 10\nx")
    assert program.result.data == 1024.0 and isinstance(program.result.data, float)


def error_of(source: str) -> ProgramError:
    with pytest.raises(ProgramError) as caught:
        parse_program(source)
    return caught.value


@pytest.mark.parametrize(
    ("source", "line", "column", "reason"),
    [
        ("__import__('os')", 1, 1, "unknown function '__import__'"),
        ("x = 1\nx.data", 2, 1, "attribute access"),
        ("lambda: 1", 1, 1, "lambda"),
        ("[i for i in range(3)]", 1, 1, "list comprehension"),
        ("(i for i in x)", 1, 1, "generator expression"),
        ("9**9**9", 1, 1, "overflow"),
        ("x = 1\ny = x ** 9**9**9", 2, 10, "overflow"),
        ("x = 1\nx / 0", 2, 1, "division by zero"),
        ("1 / 0", 1, 1, "division by zero"),
        ("log(-1)", 1, 1, "domain error"),
        ("x = 0\nlog(x)", 2, 1, "domain error"),
        ("exp(1000)", 1, 1, "overflow"),
        ("x = 1e200\nx * x", 2, 1, "overflow"),
        ("1e999", 1, 1, "overflow"),
        ("z + 1", 1, 1, "unknown name 'z'"),
        ("x = 1\ny = 2 $ 3", 2, 7, "syntax error"),
        ("x = (1 +", 1, 5, "syntax error"),
        ("import os", 1, 1, "import"),
        ("exec('1')", 1, 1, "unknown function 'exec'"),
        ("x = 1\nx = 2", 2, 1, "already assigned"),
        ("'text'", 1, 1, "string literal"),
        ("1 // 2", 1, 1, "//"),
        ("x = 1\nx[0]", 2, 1, "indexing"),
        ("exp(1, 2)", 1, 1, "exactly one argument"),
        ("x = 2\nx ** x", 2, 6, "exponent"),
        ("(-8) ** (1/3)", 1, 1, "fractional power"),
        ("x = 1\n1\nx", 2, 1, "only the last line"),
        ("", 1, 1, "empty program"),
        ("a = b = 1", 1, 1, "one plain name"),
        ("def f(): pass", 1, 1, "function definition"),
        ("x = 1\nx += 1", 2, 1, "augmented assignment"),
        ("1 if 1 else 2", 1, 1, "conditional"),
        ("exp = 3", 1, 1, "function name"),
        ("1j", 1, 1, "complex literal"),
        ("exp(1)(2)", 1, 1, "only exp, log, relu, tanh can be called"),
        ("x = 1\n(x + 1)(2)", 2, 1, "only exp, log, relu, tanh can be called"),
        ("x = 1\ny = x + " + "7" * 4400, 2, 9, "number too long: 4,400 digits"),
        ("1_" * 4400 + "1", 1, 1, "number too long: 4,401 digits"),
    ],
)
def test_refused_with_position_and_reason(source, line, column, reason):
    error = error_of(source)
    assert (error.line, error.column) == (line, column), str(error)
    assert reason in error.reason
    assert str(error).startswith(f"{line}:{column}: ")


# Python's parser words its errors for Python ("Maybe you meant '==' or ':=' instead of '='?",
# "use an 0o prefix for octal integers"); the language says where, what it found and what it
# expected there, in its own terms.
@pytest.mark.parametrize(
    ("source", "line", "column", "reason"),
    [
        ("x = 1\nif x = 2", 2, 1, "'if' is not part of the language: a line is name = expression"),
        ("2 = x", 1, 1, "the left of '=' must be one plain name"),
        ("x+1 = 2", 1, 1, "the left of '=' must be one plain name"),
        ("x = 1 = 2", 1, 5, "the left of '=' must be one plain name"),
        ("print x", 1, 1, "'print' is not part of the language"),
        ("x = 01", 1, 5, "malformed number: write decimal numbers such as 3, 0.5 or 1e-3"),
        ("y = 3x", 1, 5, "a product as 3 * x"),
        ("x = 1 +", 1, 8, "the line ends after '+': expected a number, a name or '('"),
        ("x = 1\ny = x +* 2", 2, 8, "expected a number, a name or '(' after '+', found '*'"),
        ("y = 2 x", 1, 7, "expected an operator (+ - * / **) or the end of the line after '2', "
         "found 'x'"),
        ("x = 1\ny = 2 $ 3", 2, 7, "unexpected character '$'"),
        ("x = 1\ny = x²", 2, 6, "unexpected character '²'"),
        ("x = (1 +", 1, 5, "'(' is never closed: expected ')'"),
        ("x = (1 + 2))", 1, 12, "')' has no matching opening bracket"),
        ("x = 'abc", 1, 5, "unexpected quote: the language has no text"),
        ("x = 1\n  y = 2", 2, 1, "unexpected indent: start every line at the left margin"),
        ("x = 1\ny = x *= 2", 2, 7, "'*=' is not part of the language"),
    ],
)
def test_syntax_errors_are_worded_for_the_language(source, line, column, reason):
    error = error_of(source)
    assert (error.line, error.column) == (line, column), str(error)
    assert error.reason.startswith("syntax error: ") and reason in error.reason, error.reason
    for python_only in ("Maybe you meant", "Did you mean", "==", ":=", "0o", "invalid syntax",
                        "literal"):
        assert python_only not in error.reason


def test_a_byte_order_mark_at_the_start_is_not_code():
    """Regression: a file saved with a UTF-8 BOM was a syntax error at 1:1."""
    program = parse_program("\ufeffx = 2\ny = x * x")
    assert program.result is not None and program.result.data == 4.0
    assert error_of("x = 1\n\ufeffy = 2").reason.startswith("syntax error")  # only at the start


def test_ten_thousand_nested_parentheses():
    error = error_of("(" * 10_000 + "1" + ")" * 10_000)
    assert "nesting too deep" in error.reason
    assert (error.line, error.column) == (1, MAX_DEPTH + 1)


def test_deep_nesting_without_brackets_is_refused_not_crashed():
    assert "nesting too deep" in error_of("x = 1\n" + "-" * 300 + "x").reason
    assert "split it" in error_of("-" * 60_000 + "1").reason
    assert "split it" in error_of("x = 1\n" + "+".join(["x"] * 5_000)).reason


def test_a_long_flat_sum_is_not_nesting():
    program = parse_program("x = 1\n" + " + ".join(["x"] * 400))
    assert program.result.data == 400.0


def test_node_and_size_limits():
    too_many = "x = 1\n" + "\n".join(f"y{i} = x * {i}" for i in range(6_000))
    error = error_of(too_many)
    assert "more than 10,000 nodes" in error.reason and error.line > 1
    assert "program too long" in error_of("1" + " " * expression.MAX_SOURCE_CHARS).reason
    assert "NUL" in error_of("x = 1\n\x00").reason
    assert "too long" in error_of("9" * 5_000).reason or "limit" in error_of("9" * 5_000).reason


def test_no_eval_or_exec_in_the_language():
    source = open(expression.__file__, encoding="utf-8").read()
    assert "eval(" not in source.replace("evaluate(", "") and "exec(" not in source


# --- the grad command ------------------------------------------------------------------------


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_grad_prints_a_table_of_named_values(capsys):
    status, out, _ = run_cli(["grad", "x = 3; y = x * x + x"], capsys)
    assert status == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["x"][1:3] == ["3", "7"]
    assert rows["y"][1:3] == ["12", "1"]


def test_grad_json_is_one_object_per_value(capsys):
    status, out, _ = run_cli(["grad", "--json", "a = 2; b = -3; c = a * b"], capsys)
    assert status == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert records == [
        {"name": "a", "data": 2.0, "grad": -3.0, "op": ""},
        {"name": "b", "data": -3.0, "grad": 2.0, "op": ""},
        {"name": "c", "data": -6.0, "grad": 1.0, "op": "*"},
    ]


def test_grad_steps_replay_backward_edge_by_edge(capsys):
    status, out, _ = run_cli(["grad", "--json", "--steps", "x = 3; y = x * x"], capsys)
    assert status == 0
    steps = [json.loads(line) for line in out.splitlines() if '"step"' in line]
    assert [s["child_grad_after"] for s in steps] == [3.0, 6.0]


def test_grad_dot_and_file(tmp_path, capsys):
    path = tmp_path / "program.txt"
    path.write_text("x = 2\ny = exp(x)\n", encoding="utf-8")
    status, out, _ = run_cli(["grad", "--file", str(path), "--dot"], capsys)
    assert status == 0
    assert out.startswith("digraph") and "n0 -> n1" in out


def test_grad_bad_program_exits_2_with_one_line(capsys):
    status, out, err = run_cli(["grad", "x = 1\ny = x * z"], capsys)
    assert status == 2 and out == ""
    assert err.strip() == "microgpt-tui: error: 2:9: unknown name 'z'"
    status, _, err = run_cli(["grad", "exp(1000)"], capsys)
    assert status == 2 and "overflow" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("json_mode", [False, True])
def test_grad_backward_overflow_is_one_line_naming_the_node_exit_1(capsys, json_mode):
    """Regression: backward() overflowed to inf, printed as `"grad": Infinity`, and exit 0."""
    program = "x = 1e-300; y = 1e300 * log(x)"  # forward finite; x.grad = 1e300 * 1e300
    status, out, err = run_cli(["grad", program] + (["--json"] if json_mode else []), capsys)
    assert status == 1 and out == ""
    assert err == (
        "microgpt-tui: error: overflow in backward(): x.grad += 1e+300 × 1e+300 (via log) "
        "is too large for a float\n"
    )


def test_grad_file_with_a_byte_order_mark(tmp_path, capsys):
    path = tmp_path / "program.txt"
    path.write_bytes("x = 3\ny = x * x\n".encode("utf-8-sig"))
    status, out, _ = run_cli(["grad", "--file", str(path), "--json"], capsys)
    assert status == 0 and json.loads(out.splitlines()[0])["grad"] == 6.0


def test_grad_needs_exactly_one_source(capsys, monkeypatch):
    assert run_cli(["grad"], capsys)[0] == 2
    assert run_cli(["grad", "x=1", "--file", "f"], capsys)[0] == 2
    assert run_cli(["grad", "--file", "/nonexistent/file"], capsys)[0] == 2
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"x = 5\nx * 2")))
    status, out, _ = run_cli(["grad", "--file", "-"], capsys)
    assert status == 0 and "result" in out
