"""The typed-expression parser: whitelist, hints for common slips, deep inputs."""

from __future__ import annotations

import math
import sys

import pytest

from autograd_lab import DerivationError, ExpressionError, derive, expression
from autograd_lab.expression import names_in, parse_expression
from autograd_lab.functions import FUNCTIONS


def _message(expression: str, **values: float | str) -> str:
    with pytest.raises(ExpressionError) as info:
        derive(expression, **values)
    return str(info.value)


def test_errors_are_value_errors() -> None:
    assert issubclass(ExpressionError, ValueError)
    assert issubclass(DerivationError, ValueError)


def test_tree_shape_and_spelling() -> None:
    tree = parse_expression("sin(x ** 2) + 3*pi")
    assert (tree.kind, tree.op) == ("binary", "+")
    call, product = tree.args
    assert (call.kind, call.op) == ("call", "sin")
    power = call.args[0]
    assert (power.kind, power.op, power.text) == ("binary", "**", "x ** 2")
    assert [a.kind for a in power.args] == ["name", "number"]
    assert power.args[1].value == 2.0
    assert product.args[1].kind == "constant" and product.args[1].value == math.pi
    assert names_in(tree) == ["x"]


def test_unary_plus_and_parentheses_leave_no_node() -> None:
    tree = parse_expression("+((x))")
    assert (tree.kind, tree.op) == ("name", "x")
    neg = parse_expression("-x")
    assert (neg.kind, neg.args[0].op) == ("neg", "x")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("x^2", "use ** for powers"),
        ("2x", "write 2*x"),
        ("3.5y + 1", "write 3.5*y"),
        ("3 x", "write 3*x"),
        ("sin(x", "closing parenthesis ')' is missing"),
        ("sin(x))", "without a matching '('"),
        ("", "type an expression"),
        ("   ", "type an expression"),
        ("x = 3", "without '='"),
        ("x; y", "one expression only"),
        ("x // 2", "use / for division"),
        ("sin x", "sin(x)"),
        ("x y", "near 'y' (column 3)"),
        ("2**", "missing operator (such as *) or operand"),
        ("2 * cos x**2", "cos(x)"),
    ],
)
def test_common_slips_get_a_hint(expression: str, expected: str) -> None:
    assert expected in _message(expression, x=1.0, y=2.0)


@pytest.mark.parametrize(
    ("expression", "piece"),
    [
        ("x.real", "x.real"),
        ("math.sin(x)", "math.sin(x)"),
        ("foo(x)", "foo()"),
        ("__import__('os')", "__import__"),
        ("__import__('os').system('echo hacked')", "__import__('os').system"),
        ("(lambda: 1)()", "lambda"),
        ("x[0]", "x[0]"),
        ("x < 2", "x < 2"),
        ("x if x else 1", "x if x else 1"),
        ("'text'", "'text'"),
        ("sin(x=1)", "sin(x=1)"),
        ("sin(x, x)", "sin(x, x)"),
        ("[x]", "[x]"),
        ("x, x", "x, x"),
        ("not x", "not x"),
        ("1j * x", "1j"),
        ("True * x", "True"),
        ("(y := x)", "y := x"),
        ("f'{x}'", "f'{x}'"),
        ("sin", "'sin' is a function"),
    ],
)
def test_anything_outside_the_grammar_names_the_piece(expression: str, piece: str) -> None:
    message = _message(expression, x=1.0)
    assert piece in message
    assert message.endswith(".")


def test_unknown_function_suggests_a_close_name() -> None:
    assert "did you mean sin?" in _message("Sin(x)", x=1.0)
    assert "did you mean log?" in _message("ln(x)", x=1.0)
    message = _message("softplus(x)", x=1.0)
    assert all(name in message for name in FUNCTIONS)


def test_nothing_typed_is_executed(tmp_path, monkeypatch) -> None:
    marker = tmp_path / "ran"
    monkeypatch.chdir(tmp_path)
    for text in (f"__import__('pathlib').Path('{marker}').touch()",
                 f"open('{marker}', 'w')", "exec('x=1')", "eval('1')"):
        with pytest.raises(ExpressionError):
            derive(text)
    assert not marker.exists()


def test_missing_value_names_the_variable() -> None:
    message = _message("sin(theta**2) + x", x=1.0)
    assert message.startswith("theta has no value") and "theta=" in message


def test_missing_value_inside_an_intermediate() -> None:
    assert _message("y + 1", y="w*2").startswith("w has no value")


def test_intermediate_syntax_errors_name_the_intermediate() -> None:
    message = _message("y + 1", y="2x", x=1.0)
    assert "In y = '2x'" in message and "write 2*x" in message


@pytest.mark.parametrize(
    ("values", "cycle"),
    [({"y": "y + 1"}, "y -> y"), ({"y": "w*2", "w": "y + 1"}, "y -> w -> y")],
)
def test_cycles_are_reported(values: dict[str, str], cycle: str) -> None:
    message = _message("y", **values)
    assert "defined in terms of itself" in message and cycle in message


@pytest.mark.parametrize("name", ["e", "pi"])
def test_constants_cannot_be_shadowed(name: str) -> None:
    assert "is the constant" in _message(f"{name}*x", x=1.0, **{name: 2.0})


def test_function_names_cannot_be_variables() -> None:
    assert "function name" in _message("x", x=1.0, sin=2.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, "not a number"), (float("nan"), "not a finite number"),
     (float("inf"), "not a finite number"), ([1.0], "got list"), (None, "got NoneType")],
)
def test_bad_values(value: object, expected: str) -> None:
    assert expected in _message("x", x=value)  # type: ignore[arg-type]


def test_expression_must_be_text() -> None:
    with pytest.raises(ExpressionError, match="must be text"):
        derive(3.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "(" * 300 + "x" + ")" * 300,  # SyntaxError: too many nested parentheses
        "-" * 200_000 + "x",  # MemoryError in the parser
        "+".join(["x"] * 40_000),  # RecursionError during ast construction (the parse may
        # go as deep as the 8,000-piece cap, so a flat sum past it fails here, issue 28)
        "sin(" * 250 + "x" + ")" * 250,
    ],
)
def test_input_beyond_the_parser_limits_is_an_expression_error(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the parser's own limits, reached with the size cap out of the way
    monkeypatch.setattr(expression, "MAX_LENGTH", 10**6)
    with pytest.raises(ExpressionError, match="nested too deeply") as info:
        derive(text, x=1.0)
    assert len(str(info.value)) < 300  # the message does not echo the whole input
    assert sys.getrecursionlimit() < 100_000  # and we did not raise the limit to get there


def test_deep_chain_within_parser_limits_parses_iteratively() -> None:
    depth = sys.getrecursionlimit() + 500
    text = "x" + "+x" * depth
    old = sys.getrecursionlimit()
    try:
        tree = parse_expression(text)
    except ExpressionError:  # this Python's parser refused: still not a RecursionError
        return
    assert sys.getrecursionlimit() == old
    count, node = 0, tree
    while node.kind == "binary":
        count, node = count + 1, node.args[0]
    assert count == depth
    assert repr(tree) == "Expr('binary', '+')"


def test_domain_errors_name_the_step() -> None:
    with pytest.raises(DerivationError) as info:
        derive("log(x - 1) + x", x=0.0)
    assert str(info.value) == "v2 = log(v1): log needs a positive input, got -1.0."
    with pytest.raises(DerivationError, match=r"^z = log\(x\): .*got 0\.0"):
        derive("log(x)", x=0.0)
    with pytest.raises(DerivationError, match=r"^z = sqrt\(x\): sqrt needs"):
        derive("sqrt(x)", x=-1.0)
    with pytest.raises(DerivationError, match=r"^z = 1/v1: division by zero \(v1 is 0\)"):
        derive("1/(x - x)", x=2.0)
    with pytest.raises(DerivationError, match=r"^1/0: division by zero"):
        derive("x + 1/0", x=2.0)
    with pytest.raises(DerivationError, match=r"overflow"):
        derive("exp(x)", x=1000.0)
    with pytest.raises(DerivationError, match=r"overflow"):
        derive("x*x", x=1e200)
    with pytest.raises(DerivationError, match=r"negative base"):
        derive("x**0.5", x=-4.0)
    with pytest.raises(DerivationError, match=r"derivative 1/\(2\*sqrt\(x\)\)"):
        derive("sqrt(x)", x=0.0)  # value 0 is fine; its slope is infinite
    with pytest.raises(DerivationError, match=r"positive base"):
        derive("x**y", x=-2.0, y=2.0)  # value 4, but d/dy needs log(-2)


def test_numbers_too_large_for_a_float() -> None:
    assert "too large for a float" in _message("1e400*x", x=1.0)
    assert "not a finite number" in _message("x", x=10**400)


def test_a_typo_in_an_unused_definition_is_reported() -> None:
    assert "write 2*x" in _message("x", x=1.0, y="2x")


def test_null_character() -> None:
    assert "cannot read" in _message("x\x00", x=1.0)


def test_expression_is_positional_only_so_any_variable_name_works() -> None:
    assert derive("expression*2", expression=3.0).gradient == {"expression": 2.0}


def test_a_number_and_a_name_on_two_lines_get_a_one_line_message() -> None:
    with pytest.raises(ExpressionError) as info:
        derive("2\nx", x=1.0)
    assert "\n" not in str(info.value)
    assert "2*x" in str(info.value)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("sin\nx", "sin(x)"),  # the hint echoes the call
        ("sin(\n)", "takes exactly one input"),  # the message echoes the piece
        ("x(\n  )", "not a supported function"),
        ("(x,\n y)", "is a tuple"),
    ],
)
def test_input_over_several_lines_gets_a_one_line_message(typed: str, expected: str) -> None:
    # found by test_fuzz: messages echoed what was typed, line breaks and all
    with pytest.raises(ExpressionError) as info:
        derive(typed, x=0.0, y=1.0)
    assert "\n" not in str(info.value)
    assert expected in str(info.value)
