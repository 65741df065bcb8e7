"""Bad input in every expression box: one-line message, nothing evaluated, no traceback.

``eval``/``exec`` and non-AST ``compile`` are replaced by tripwires while the input is
handled, and an ``__import__`` of a sentinel module name would be recorded.
"""

from __future__ import annotations

import ast
import builtins
import html
import re
import sys

import pytest

pytest.importorskip("ipywidgets")

from autograd_lab.widgets import (  # noqa: E402
    BackwardTracer,
    ChainRuleStepper,
    GradAccumulationLab,
)

SENTINEL = "agl_injection_sentinel"

BAD_INPUTS = {
    "unknown function": "foo(x)",
    "syntax error": "sin(x",
    "statement": "import os",
    "empty": "",
    "blank": "   ",
    "caret power": "x^2",
    "import call": f"__import__('{SENTINEL}')",
    "import os call": "__import__('os').system('echo hacked')",
    "attribute access": "x.__class__",
    "dunder chain": "().__class__.__bases__[0].__subclasses__()",
    "lambda": "lambda: 1",
    "eval call": "eval('1+1')",
    "comprehension": "[x for x in range(3)]",
    "string literal": "'abc'",
    "too deep": "(" * 5000 + "x" + ")" * 5000,
    "a million characters": "x" * 10**6,
    "a very long name": "a" * 5000 + " + 1",
    "too many pieces": "+".join(["x"] * 9000),
}


@pytest.fixture
def tripwires(monkeypatch: pytest.MonkeyPatch):
    """Returns ``arm()``: call it once the widget exists; it returns the list of trips."""
    calls: list[str] = []
    real_import = builtins.__import__
    real_compile = builtins.compile

    def no_eval(*args: object, **kwargs: object) -> None:
        calls.append("eval/exec")
        raise AssertionError("user input reached eval/exec")

    def guarded_import(name: str, *args: object, **kwargs: object) -> object:
        if name == SENTINEL:
            calls.append(f"import {name}")
            raise AssertionError("user input reached __import__")
        return real_import(name, *args, **kwargs)

    def ast_only_compile(source: object, filename: object, mode: str, flags: int = 0,
                         *args: object, **kwargs: object) -> object:
        if not flags & ast.PyCF_ONLY_AST:
            calls.append("compile")
            raise AssertionError("user input compiled to code")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def arm() -> list[str]:
        monkeypatch.setattr(builtins, "eval", no_eval)
        monkeypatch.setattr(builtins, "exec", no_eval)
        monkeypatch.setattr(builtins, "__import__", guarded_import)
        monkeypatch.setattr(builtins, "compile", ast_only_compile)
        return calls

    return arm


def submit(w: object, text: str) -> None:
    """Type ``text`` into the expression box and apply it (Apply where the widget has one)."""
    w.expression_box.value = text
    apply_button = getattr(w, "apply_button", None)
    if apply_button is not None:
        apply_button.click()


def visible_text(html_value: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_value)).strip()


@pytest.fixture(scope="module")
def one_widget_per_class() -> dict[type, object]:
    """The bad-input cases share one widget per class (building a BackwardTracer traces a
    graph: about half of each case's time); each case first puts it in a known state."""
    return {}


@pytest.mark.parametrize("label", list(BAD_INPUTS))
@pytest.mark.parametrize("widget_cls", [ChainRuleStepper, BackwardTracer, GradAccumulationLab])
def test_bad_input_gives_one_line_message_and_evaluates_nothing(
    widget_cls: type, label: str, tripwires, one_widget_per_class: dict[type, object]
) -> None:
    w = one_widget_per_class.get(widget_cls)
    if w is None:
        w = one_widget_per_class[widget_cls] = (
            widget_cls() if widget_cls is GradAccumulationLab
            else widget_cls("sin(x**2)", x=3.0))
        submit(w, "x**2 + 1")  # a good one first: every module is loaded now
        assert w.message.value == ""
    # the known state: the good expression shown (a shared widget says "Already showing"),
    # the box holding it, the message line empty and no error kept
    submit(w, "x**2 + 1")
    assert w.state.expression == "x**2 + 1"
    w.message.value = ""
    w.last_error = None
    state_before = w.state.expression
    trips = tripwires()
    submit(w, BAD_INPUTS[label])
    text = visible_text(w.message.value)
    assert text, f"no message for {label}"
    assert "\n" not in text and "Traceback" not in text
    assert len(text) < 300 and "x" * 81 not in text and "a" * 81 not in text  # short echo
    assert w.last_error is not None and not isinstance(w.last_error, AssertionError)
    assert "Something unexpected" not in text, repr(w.last_error)
    assert w.state.expression == state_before
    assert trips == []
    assert SENTINEL not in sys.modules


def test_import_os_message_names_the_problem() -> None:
    w = ChainRuleStepper()
    submit(w, "__import__('os')")
    assert "not a supported function" in visible_text(w.message.value)
    submit(w, "x.__class__")
    assert "attribute access" in visible_text(w.message.value)
    submit(w, "lambda: 1")
    assert "lambda" in visible_text(w.message.value)


def test_importing_the_package_does_not_import_ipywidgets_or_matplotlib(import_probe) -> None:
    code = (
        "import sys, autograd_lab, autograd_lab.widgets as w; "
        "print('ipywidgets' in sys.modules, 'matplotlib' in sys.modules, "
        "sorted(n for n in dir(w) if n[0].isupper())[:2])"
    )
    result = import_probe(code)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.strip().splitlines()[-1] == "False False ['AccumulationRun', 'BackwardSteps']"


def test_an_unforeseen_failure_in_a_handler_is_a_generic_one_line_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = ChainRuleStepper()

    def broken() -> None:
        raise KeyError("internal")

    monkeypatch.setattr(w.state, "next", broken)
    w.next_button.click()  # must not raise
    assert "Something unexpected went wrong" in visible_text(w.message.value)
    assert isinstance(w.last_error, KeyError)


def test_widget_constructors_say_what_to_do_with_the_wrong_kind_of_input() -> None:
    w = ChainRuleStepper(3)  # type: ignore[arg-type]
    text = visible_text(w.message.value)
    assert "text in quotes" in text and "ChainRuleStepper('sin(x**2)'" in text
    assert "Something unexpected" not in text
    w = BackwardTracer(3)
    text = visible_text(w.message.value)
    assert "expression in quotes" in text and "or a tensor" in text
    w = BackwardTracer("2")
    text = visible_text(w.message.value)
    assert "has no variable" in text and "exp(sin(x**2))" in text
    assert w.state.expression == "sin(x**2)"
    submit(w, "2*pi")
    assert "has no variable" in visible_text(w.message.value)
    assert w.state.expression == "sin(x**2)"


PREDICTIONS = {
    "a million letters": "x" * 10**6,
    "a million digits": "1" * 10**6,
    "not finite": "1e400",
    "a name": "x.grad",
    "code": "__import__('os')",
    "blank": "   ",
}


@pytest.mark.parametrize("label", list(PREDICTIONS))
@pytest.mark.parametrize("widget_cls", [ChainRuleStepper, BackwardTracer])
def test_typed_prediction_gets_a_one_line_answer_and_reveals_nothing(
    widget_cls: type, label: str, tripwires
) -> None:
    w = widget_cls("exp(sin(x**2))", x=3.0)
    output = w.output_html.value
    trips = tripwires()
    w.prediction.box.value = PREDICTIONS[label]
    w.prediction.check_button.click()
    text = visible_text(w.message.value)
    assert text and "\n" not in text and len(text) < 200, text
    assert "x" * 30 not in text and "1" * 30 not in text  # the echo is capped
    assert "Something unexpected" not in text and "Traceback" not in text
    assert w.state.index == 0 and w.output_html.value == output
    assert not w.prediction.last_verdict.ok
    assert trips == []


@pytest.mark.parametrize("widget_cls", [ChainRuleStepper, BackwardTracer])
def test_a_huge_typed_expression_is_echoed_short_in_the_hint(widget_cls: type) -> None:
    w = widget_cls("sin(x**2)", x=3.0)
    w.expression_box.value = "x" * 10**6
    hint = visible_text(w.expression_input.hint.value)
    assert "press Enter or Apply" in hint and len(hint) < 120
    w.apply_button.click()
    text = visible_text(w.message.value)
    assert text and "\n" not in text and len(text) < 300 and "x" * 81 not in text
    assert w.state.expression == "sin(x**2)"
