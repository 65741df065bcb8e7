"""Huge, hostile and odd input to derive: one short sentence at once, and the fast check.

The size cap (``autograd_lab.expression.MAX_*``) is shared by derive and the widgets.
"""

from __future__ import annotations

import math
import random
import time

import pytest
import torch

from autograd_lab import ExpressionError, derive, numerical_derivative
from autograd_lab.expression import MAX_LENGTH, MAX_NAME_LENGTH, MAX_NAMES, MAX_NODES


def _echo_is_short(message: str, text: str, limit: int = 80) -> bool:
    """No run of more than ``limit`` characters of ``text`` appears in ``message``."""
    return text[: limit + 1] not in message and len(message) < 300


def test_a_million_characters_is_one_short_sentence_at_once() -> None:
    text = "x" * 10**6
    start = time.perf_counter()
    with pytest.raises(ExpressionError, match="over the limit of 20,000") as info:
        derive(text)
    assert time.perf_counter() - start < 0.5
    message = str(info.value)
    assert _echo_is_short(message, text) and "\n" not in message


def test_a_very_long_name_is_refused_without_echoing_it() -> None:
    name = "a" * 5_000
    with pytest.raises(ExpressionError, match="use a shorter name") as info:
        derive(f"{name} + 1", **{name: 1.0})
    assert _echo_is_short(str(info.value), name, limit=40)
    with pytest.raises(ExpressionError, match="use a shorter name") as info:
        derive("x + 1", x=1.0, **{name: 2.0})
    assert _echo_is_short(str(info.value), name, limit=40)
    ok = "b" * MAX_NAME_LENGTH
    assert derive(f"{ok}**2", **{ok: 3.0}).gradient == {ok: 6.0}


def test_too_many_names_and_too_many_pieces() -> None:
    values = {f"x{i}": 1.0 for i in range(MAX_NAMES + 1)}
    with pytest.raises(ExpressionError, match="over the limit of 2,000 names"):
        derive("x0", **values)
    # a balanced tree (shallow, so Python's parser accepts it) of more than MAX_NODES pieces
    parts = ["x"] * (MAX_NODES // 2 + 10)
    while len(parts) > 1:
        parts = [f"({a}+{b})" for a, b in zip(parts[::2], parts[1::2], strict=False)] + (
            [parts[-1]] if len(parts) % 2 else [])
    assert len(parts[0]) < MAX_LENGTH
    with pytest.raises(ExpressionError, match="pieces"):
        derive(parts[0], x=1.0)
    # intermediates count towards the same cap
    half = "+".join(["x"] * (MAX_NODES // 4))
    with pytest.raises(ExpressionError, match="pieces, over the limit"):
        derive("a + b + c", a=half, b=half, c=half, x=1.0)


def test_a_flat_sum_up_to_the_piece_cap_derives() -> None:
    import sys

    # x+x+…+x nests to the left; at 2,985 terms Python's parser ran out of recursion (issue 28)
    terms = (MAX_NODES + 1) // 2  # 4,000 names and 3,999 additions: 7,999 pieces
    limit = sys.getrecursionlimit()
    d = derive("+".join(["x"] * terms), x=0.5)
    assert d.value == terms * 0.5 and d.gradient == {"x": float(terms)}
    assert sys.getrecursionlimit() == limit  # raised for the parse alone
    with pytest.raises(ExpressionError, match="more than 8,000 pieces"):
        derive("+".join(["x"] * (terms + 1)), x=0.5)  # one more term: the cap, said as it is


def test_a_sum_of_two_thousand_variables_derives_and_checks() -> None:
    n = 2_000
    values = {f"x{i}": 0.1 * (i % 7) - 0.3 for i in range(n)}
    d = derive("+".join(values), **values)
    table = d.check()
    assert table.ok and len(table.rows) == n
    assert all(row.manual == 1.0 and row.autograd == 1.0 for row in table.rows)
    assert all(row.numerical_ok for row in table.rows)


@pytest.mark.parametrize("expression", [
    "sin(x*y) + x/y - relu(x - 0.5) + abs(y)**1.5",
    "exp(-x**2) * log(y) + sqrt(y) / (1 + x**2)",
    "x**y + 2**x - tanh(x)*sigmoid(y)",
    "a*a + a", "x/x",
])
def test_fast_finite_differences_are_the_plain_central_difference(expression: str) -> None:
    """Every column of the one-pass replay is bit-for-bit ``numerical_derivative`` of the
    expression re-derived at ``x ± h`` (an independent path through ``derive``)."""
    rng = random.Random(expression)
    for _ in range(5):
        values = {"x": rng.uniform(0.2, 2.0), "y": rng.uniform(0.2, 2.0)}
        if "a" in expression:
            values["a"] = "x*y"
        d = derive(expression, **values)
        numerical = d.numerical()
        for name in d.gradient:
            def f(t: float, name: str = name, values: dict = values) -> float:
                return derive(expression, **{**values, name: t}).value

            assert numerical[name] == numerical_derivative(f, values[name])


def test_x_over_x_at_tiny_x_agrees_with_autograd() -> None:
    """1/x and -x/x**2 cancel exactly; they used to leave 0.5 (a GradientMismatch)."""
    rng = random.Random(11)
    xs = [-2.5800127794881617e-16] + [rng.uniform(-1e-15, 1e-15) for _ in range(300)]
    xs += [1e-200, -3e-170, 7e150]  # x**2 would underflow to 0 or overflow
    for x in xs:
        d = derive("x/x", x=x)
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        (t / t).backward()
        assert d.gradient["x"] == t.grad.item() == 0.0, x
        assert d.check().ok
    d = derive("y/x", x=-2.5800127794881617e-16, y=3.0)
    assert math.isclose(d.gradient["x"], -3.0 / 2.5800127794881617e-16**2, rel_tol=1e-15)


@pytest.mark.parametrize("value, words", [
    (torch.tensor(1.0, dtype=torch.complex64), "complex tensor"),
    (torch.tensor(1.0, device="meta"), "meta tensor"),
    (torch.tensor([1.0, 2.0]), "has 2 values"),
])
def test_tensors_derive_cannot_use_get_one_sentence(value: torch.Tensor, words: str) -> None:
    with pytest.raises(ExpressionError, match=words) as info:
        derive("x**2", x=value)
    assert "\n" not in str(info.value)
    assert derive("x**2", x=torch.tensor(3.0)).gradient == {"x": 6.0}


@pytest.mark.parametrize("kwargs, words", [
    ({"dtype": torch.complex64}, "real floating dtype"),
    ({"dtype": torch.int64}, "real floating dtype"),
    ({"leaves": {"x": torch.tensor(1.0, dtype=torch.complex64, requires_grad=True)}},
     "complex tensor"),
    ({"leaves": {"x": torch.tensor(1.0, device="meta", requires_grad=True)}}, "meta tensor"),
])
def test_to_torch_refuses_complex_integer_and_meta(kwargs: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        derive("sin(x**2)", x=1.0).to_torch(**kwargs)
