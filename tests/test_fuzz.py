"""Fuzzing the expression grammar and the widgets' text boxes (hypothesis, bounded time).

Whatever is typed, derive either works or raises ExpressionError / DerivationError with one
short line; ``check()`` gives a table (or GradientMismatch carrying one); a widget's text
box shows one line and keeps its last good expression -- no other exception, no hang.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_lab import DerivationError, ExpressionError, GradientMismatch, derive
from tests.tiers import examples

TOKENS = ["x", "y", "z", "2", "0.5", "1e308", "1e-320", "0", "e", "pi", "+", "-", "*", "/",
          "**", "(", ")", "(", ")", "sin", "exp", "log", "sqrt", "relu", "abs", "tan", "^", " ",
          ",", "=", ".", "x2", "2x", "[", "'", "lambda", "__import__", ";", "\n", "foo"]

#: typed text: grammar tokens in any order (mostly wrong), or any text at all
TYPED = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=30).map("".join),
    st.text(max_size=120),
)
FUZZ = settings(max_examples=examples(200), deadline=None, suppress_health_check=list(HealthCheck))
#: the widgets draw a graph for every good expression: fewer examples keep the run short
FUZZ_WIDGETS = settings(FUZZ, max_examples=examples(40))

#: one example must never take longer than this (the slowest seen here is far below it)
SLOW = 5.0


def _one_line(error: BaseException) -> None:
    message = str(error)
    assert message and "Traceback" not in message and len(message) < 400, message
    if not isinstance(error, GradientMismatch):
        assert "\n" not in message, message


@FUZZ
@given(text=TYPED, x=st.floats(-1e3, 1e3), y=st.floats(-10, 10))
def test_derive_and_check_never_fail_otherwise(text: str, x: float, y: float) -> None:
    start = time.perf_counter()
    try:
        d = derive(text, x=x, y=y)
    except (ExpressionError, DerivationError) as error:
        _one_line(error)
        return
    try:
        table = d.check()
    except GradientMismatch as error:
        table = error.table
    assert {row.variable for row in table.rows} == {"x", "y"}
    assert time.perf_counter() - start < SLOW, text


@pytest.fixture(scope="module")
def boxes():
    pytest.importorskip("ipywidgets")
    from autograd_lab.widgets import BackwardTracer, ChainRuleStepper, GradAccumulationLab

    return [ChainRuleStepper("sin(x**2)", x=3.0), BackwardTracer("sin(x**2)", x=3.0),
            GradAccumulationLab()]


@FUZZ_WIDGETS
@given(text=TYPED)
def test_widget_text_boxes_show_one_line_whatever_is_typed(boxes, text: str) -> None:
    for w in boxes:
        good = w.state.expression
        start = time.perf_counter()
        w.expression_box.value = text
        if getattr(w, "apply_button", None) is not None:  # Enter or Apply applies it
            w.apply_button.click()
        assert time.perf_counter() - start < SLOW, text
        message = w.message.value
        assert "Something unexpected" not in message, (text, repr(w.last_error))
        assert "Traceback" not in message and message.count("<div") <= 1
        if message:  # refused: the last good expression is still shown
            assert w.state.expression in (good, text.strip(), text)
        w.expression_box.value = "x**2 + 1"  # back to a good one for the next example
        if getattr(w, "apply_button", None) is not None:
            w.apply_button.click()
