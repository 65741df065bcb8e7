"""The exercise checks: truth, every mistake code, "not attempted", and never a traceback.

Expected values are computed here independently of the checks: closed-form derivatives with
``math`` (checked against the checks' torch-float64 truth), and the wrong answers the way a
student making that slip would compute them. Tests assert mistake *codes*, not the prose.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from autograd_lab.exercises import (
    EXERCISES,
    MISTAKES,
    Verdict,
    check_grad_sequence,
    check_gradient,
    check_intermediate_grad,
    check_no_grad_choice,
    check_no_grad_loop,
    check_training_loop,
)
from autograd_lab.exercises import ground_truth as truth
from autograd_lab.exercises import loop_checks as loops
from autograd_lab.exercises.gradient_checks import BY_HAND

# --- closed forms, written out independently of the checks ----------------------------------
SIG = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731

NX, NY, NW, NB = (0.5, -1.2, 2.0), (1.0, 0.0, 1.0), 0.8, -0.1
_resid = [SIG(NW * x + NB) - y for x, y in zip(NX, NY, strict=True)]
NEURON_DW = sum(r * x for r, x in zip(_resid, NX, strict=True)) / 3
NEURON_DB = sum(_resid) / 3

SX, SY, SW, SB, LR = (0.0, 1.0, 2.0, 3.0), (1.0, 2.5, 4.5, 6.0), 0.5, 0.0, 0.1
_err = [SW * x + SB - y for x, y in zip(SX, SY, strict=True)]
STEP_GW = sum(2 * e * x for e, x in zip(_err, SX, strict=True)) / 4
STEP_GB = sum(2 * e for e in _err) / 4

U_TANH = -0.8 * 1.5 + 0.3
X, Y = 0.5, -1.2

CLOSED_FORM = {
    ("cubic", "x"): 3 * 2.0**2 - 2,
    ("exp_cos", "x"): -math.sin(2.0) * math.exp(math.cos(2.0)),
    ("tanh_unit", "w"): (1 - math.tanh(U_TANH) ** 2) * 1.5,
    ("tanh_unit", "b"): 1 - math.tanh(U_TANH) ** 2,
    ("x_exp_xy", "x"): math.exp(Y * X) * (1 + X * Y),
    ("x_exp_xy", "y"): X * X * math.exp(Y * X),
    ("neuron_mean", "w"): NEURON_DW,
    ("neuron_mean", "b"): NEURON_DB,
    ("sgd_step", "w"): SW - LR * STEP_GW,
    ("sgd_step", "b"): SB - LR * STEP_GB,
}


def test_closed_forms_cover_every_exercise() -> None:
    assert set(CLOSED_FORM) == {(e, v) for e, qs in EXERCISES.items() for v in qs}


@pytest.mark.parametrize(("exercise", "wrt"), sorted(CLOSED_FORM))
def test_truth_matches_closed_form(exercise: str, wrt: str) -> None:
    assert EXERCISES[exercise][wrt].truth() == pytest.approx(CLOSED_FORM[exercise, wrt], rel=1e-9)


@pytest.mark.parametrize(("exercise", "wrt"), sorted(CLOSED_FORM))
def test_correct_answer_in_any_numeric_form(exercise: str, wrt: str) -> None:
    value = CLOSED_FORM[exercise, wrt]
    tensors = (torch.tensor(value), torch.tensor([value]))
    for answer in (value, round(value, 4), np.float32(value)) + tensors:
        verdict = check_gradient(exercise, wrt, answer)
        if exercise in BY_HAND and isinstance(answer, torch.Tensor):
            # a chain-rule answer by hand is a float; a tensor is autograd's (issue 30)
            assert verdict.mistake == "autograd_not_hand", (answer, verdict)
            continue
        assert verdict.ok and verdict.mistake is None, (answer, verdict)
    assert repr(check_gradient(exercise, wrt, value)).startswith("✓ Correct: ")


def test_far_wrong_answer_is_not_ok_and_unrecognised() -> None:
    verdict = check_gradient("exp_cos", "x", 123.0)
    assert not verdict.ok and verdict.mistake is None


# --- each mistake code, fed the way a student makes it ----------------------------------------
MISTAKE_CASES = [
    # missing_chain_factor: the outer derivative alone
    ("missing_chain_factor", lambda: check_gradient("exp_cos", "x", math.exp(math.cos(2.0)))),
    ("missing_chain_factor",
     lambda: check_gradient("tanh_unit", "w", 1 - math.tanh(U_TANH) ** 2)),
    ("missing_chain_factor",
     lambda: check_gradient("x_exp_xy", "x", math.exp(Y * X) * (1 + X))),
    ("missing_chain_factor", lambda: check_gradient("x_exp_xy", "y", X * math.exp(Y * X))),
    ("missing_chain_factor", lambda: check_gradient("neuron_mean", "w", sum(_resid) / 3)),
    ("missing_chain_factor",
     lambda: check_gradient("sgd_step", "w", SW - LR * sum(2 * e for e in _err) / 4)),
    ("missing_chain_factor", lambda: check_gradient("sgd_step", "b", SB - LR * sum(_err) / 4)),
    # sign_error
    ("sign_error",
     lambda: check_gradient("exp_cos", "x", math.sin(2.0) * math.exp(math.cos(2.0)))),
    ("sign_error", lambda: check_gradient("tanh_unit", "b", -(1 - math.tanh(U_TANH) ** 2))),
    ("sign_error", lambda: check_gradient("neuron_mean", "b", -NEURON_DB)),
    ("sign_error", lambda: check_gradient("sgd_step", "w", SW + LR * STEP_GW)),
    # wrong_reduction: sum instead of mean (and mean taken twice)
    ("wrong_reduction", lambda: check_gradient("neuron_mean", "w", 3 * NEURON_DW)),
    ("wrong_reduction", lambda: check_gradient("neuron_mean", "b", NEURON_DB / 3)),
    ("wrong_reduction", lambda: check_gradient("sgd_step", "w", SW - LR * 4 * STEP_GW)),
    # not_zeroed: the zero_() between B and C ignored
    ("not_zeroed", lambda: check_grad_sequence(6.75, 10.75, 6.75 + 4 + 2 * 1.5 + 1)),
    # not attempted
    ("not_attempted", lambda: check_gradient("exp_cos", "x", ...)),
    ("not_attempted", lambda: check_gradient("tanh_unit", "b", None)),
    ("not_attempted", lambda: check_grad_sequence(6.75, ..., 4.0)),
    ("not_attempted", lambda: check_intermediate_grad(...)),
    ("not_attempted", lambda: check_no_grad_choice(1, ...)),
    ("not_attempted", lambda: check_no_grad_loop(...)),
    ("not_attempted", lambda: check_training_loop(None)),
    # non_leaf_grad: a non-leaf's .grad (None) / a non-leaf via requires_grad_ on a non-leaf
    ("non_leaf_grad", lambda: check_no_grad_choice(2, "a")),
    # gradient_not_step: dL/dw typed where w after the step was asked
    ("gradient_not_step", lambda: check_gradient("sgd_step", "w", STEP_GW)),
    ("gradient_not_step", lambda: check_gradient("sgd_step", "b", STEP_GB)),
    # tanh_not_squared: 1 - tanh(u) instead of 1 - tanh(u)**2
    ("tanh_not_squared", lambda: check_gradient("tanh_unit", "w", (1 - math.tanh(U_TANH)) * 1.5)),
    ("tanh_not_squared", lambda: check_gradient("tanh_unit", "b", 1 - math.tanh(U_TANH))),
    # wrong_variable: the partial with respect to another variable
    ("wrong_variable", lambda: check_gradient("x_exp_xy", "x", X * X * math.exp(Y * X))),
    ("wrong_variable", lambda: check_gradient("x_exp_xy", "y", math.exp(Y * X) * (1 + X * Y))),
    ("wrong_variable",  # dz/dx = tanh'(u) * w
     lambda: check_gradient("tanh_unit", "w", (1 - math.tanh(U_TANH) ** 2) * -0.8)),
    ("wrong_variable",
     lambda: check_gradient("tanh_unit", "b", (1 - math.tanh(U_TANH) ** 2) * 1.5)),
    ("wrong_variable", lambda: check_gradient("neuron_mean", "b", NEURON_DW)),
    ("wrong_variable", lambda: check_gradient("sgd_step", "b", SB - LR * STEP_GW)),
]


@pytest.mark.parametrize(("code", "run"), MISTAKE_CASES)
def test_mistake_code(code: str, run) -> None:
    verdict = run()
    assert isinstance(verdict, Verdict)
    assert not verdict.ok
    assert verdict.mistake == code, verdict
    if code == "not_attempted":
        assert "not attempted yet" in verdict.message.lower()


def _grad_of_h_without_retain(x0: float):
    x = torch.tensor(x0, requires_grad=True)
    h = x * torch.sin(x)
    loss = h * torch.exp(h)
    loss.backward()
    return h.grad  # None: h is not a leaf


def _grad_of_h_right(x0: float):
    x = torch.tensor(x0, requires_grad=True)
    h = x * torch.sin(x)
    h.retain_grad()
    (h * torch.exp(h)).backward()
    return h.grad


def test_intermediate_grad_non_leaf_and_correct() -> None:
    assert check_intermediate_grad(_grad_of_h_without_retain).mistake == "non_leaf_grad"
    verdict = check_intermediate_grad(_grad_of_h_right)
    assert verdict.ok, verdict
    # dL/dh = e^h (1 + h) at h = x sin x, written out independently
    h = 0.9 * math.sin(0.9)
    assert f"{math.exp(h) * (1 + h):.6f}" in verdict.message


def test_intermediate_grad_leaf_gradient_is_recognised_as_wrong() -> None:
    def leaf_grad(x0: float):
        x = torch.tensor(x0, requires_grad=True)
        h = x * torch.sin(x)
        (h * torch.exp(h)).backward()
        return x.grad

    verdict = check_intermediate_grad(leaf_grad)
    assert not verdict.ok and verdict.mistake is None and "dL/dx" in verdict.message


def _loop(*, zero: bool | str = True, no_grad: bool | str = True, reduction: str = "mean"):
    """A student's loop; ``zero="first"`` clears the gradients before the update,
    ``no_grad="rebind"`` writes ``w = w - lr * w.grad`` inside ``torch.no_grad()``."""

    def fit(x, y, lr, epochs):
        w = torch.tensor(0.0, requires_grad=True)
        b = torch.tensor(0.0, requires_grad=True)
        for _ in range(epochs):
            err = (w * x + b - y) ** 2
            loss = err.mean() if reduction == "mean" else err.sum()
            loss.backward()
            if zero == "first":
                w.grad.zero_()
                b.grad.zero_()
            if no_grad == "rebind":
                with torch.no_grad():
                    w = w - lr * w.grad
                    b = b - lr * b.grad
            elif no_grad:
                with torch.no_grad():
                    w -= lr * w.grad
                    b -= lr * b.grad
            else:
                w = w - lr * w.grad
                b = b - lr * b.grad
            if zero is True:
                w.grad.zero_()
                b.grad.zero_()
        return w.item(), b.item()

    return fit


@pytest.mark.parametrize("check", [check_training_loop, check_no_grad_loop])
def test_loop_checks(check) -> None:
    assert check(_loop()).ok
    assert check(_loop(zero=False)).mistake == "not_zeroed"
    assert check(_loop(reduction="sum")).mistake == "wrong_reduction"
    assert check(_loop(no_grad=False)).mistake == "non_leaf_grad"
    assert check(_loop(zero="first")).mistake == "params_never_moved"
    rebound = check(_loop(no_grad="rebind"))
    assert rebound.mistake == "update_not_in_place"
    assert "in place" in rebound.message and "no longer a leaf" not in rebound.message
    # without zero_(), the rebound w fails in the next backward() instead: same diagnosis
    assert check(_loop(no_grad="rebind", zero=False)).mistake == "update_not_in_place"


def test_rebinding_inside_no_grad_makes_an_untracked_leaf() -> None:
    """What update_not_in_place says, checked against torch."""
    w = torch.tensor(0.0, requires_grad=True)
    (w * 2.0).backward()
    with torch.no_grad():
        w = w - 0.1 * w.grad
    assert w.is_leaf and not w.requires_grad and w.grad is None and w.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        (w * 2.0).backward()


def _grad_of_h_by_hand(x0: float):
    h = x0 * math.sin(x0)
    return math.exp(h) * (1 + h)  # right value, but no retain_grad()


def _grad_of_h_by_autograd_grad(x0: float):
    x = torch.tensor(x0, requires_grad=True)
    h = x * torch.sin(x)
    (g,) = torch.autograd.grad(h * torch.exp(h), h)
    return g


def _grad_of_h_retained_elsewhere(x0: float):
    x = torch.tensor(x0, requires_grad=True)
    h = x * torch.sin(x)
    h.retain_grad()
    (h * torch.exp(h)).backward()
    return torch.tensor(_grad_of_h_by_hand(x0))  # equal to h.grad, which the code kept


def test_intermediate_grad_checks_that_retain_grad_was_used() -> None:
    for fn in (_grad_of_h_by_hand, _grad_of_h_by_autograd_grad):
        assert check_intermediate_grad(fn).mistake == "retain_grad_not_called", fn
    # the value equals h.grad, which the code kept: what the code did is what was asked
    assert check_intermediate_grad(_grad_of_h_retained_elsewhere).ok
    assert check_intermediate_grad(_grad_of_h_right).ok
    original = torch.Tensor.retain_grad
    check_intermediate_grad(_grad_of_h_right)
    assert torch.Tensor.retain_grad is original


def test_loop_update_without_zeroing_accumulates() -> None:
    """The reference 'not zeroed' run really is what torch does without zero_()."""
    case = loops.TRAINING_CASES[0]
    w, b = _loop(zero=False)(torch.tensor(case.x), torch.tensor(case.y), case.lr, case.epochs)
    ref = loops.reference_fit(case, zero_grad=False)
    assert (w, b) == pytest.approx(ref, rel=1e-4, abs=1e-5)
    assert loops.reference_fit(case) != pytest.approx(ref, rel=1e-2)


def test_reference_fit_matches_plain_gradient_descent() -> None:
    """Closed-form MSE gradients, stepped in plain Python, agree with the reference run."""
    for case in loops.TRAINING_CASES + loops.NO_GRAD_CASES:
        w = b = 0.0
        n = len(case.x)
        for _ in range(case.epochs):
            err = [w * x + b - y for x, y in zip(case.x, case.y, strict=True)]
            gw = sum(2 * e * x for e, x in zip(err, case.x, strict=True)) / n
            gb = sum(2 * e for e in err) / n
            w, b = w - case.lr * gw, b - case.lr * gb
        assert loops.reference_fit(case) == pytest.approx((w, b), rel=1e-9, abs=1e-12)


def test_grad_sequence_truth_is_real_torch() -> None:
    x = torch.tensor(1.5, requires_grad=True)
    (x**3).backward()
    a = x.grad.item()
    (4 * x).backward()
    b = x.grad.item()
    x.grad.zero_()
    (x**2 + x).backward()
    c = x.grad.item()
    assert check_grad_sequence(a, b, c).ok
    replaced = check_grad_sequence(a, 4.0, c)
    assert not replaced.ok and replaced.mistake is None


@pytest.mark.parametrize(("situation", "right"),
                         [(1, "c"), (2, "b"), (3, "a"), (4, "c"), (5, "b")])
def test_no_grad_choices(situation: int, right: str) -> None:
    assert check_no_grad_choice(situation, right).ok
    names = {"a": "requires_grad_(False)", "b": "x.detach()", "c": "with torch.no_grad():"}
    assert check_no_grad_choice(situation, names[right].upper()).ok
    for other in "abc".replace(right, ""):
        assert not check_no_grad_choice(situation, other).ok


def test_no_grad_choice_claims_hold_in_torch() -> None:
    """The explanations' claims, checked against torch itself."""
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    pred = w * 3
    with pytest.raises(RuntimeError):  # requires_grad_ on a non-leaf
        pred.requires_grad_(False)
    history = []
    with torch.no_grad():  # no_grad does not change a tensor that already exists
        history.append(pred)
    assert history[0].grad_fn is not None
    copy = pred.detach()  # no grad_fn, same storage, the original untouched
    assert copy.grad_fn is None and copy.data_ptr() == pred.data_ptr()
    assert pred.grad_fn is not None
    # situation 1: inside no_grad nothing is recorded and the parameter stays trainable
    with torch.no_grad():
        validation = (w * 3).sum()
    assert validation.grad_fn is None and w.requires_grad
    frozen = torch.tensor(1.0, requires_grad=True)
    frozen.requires_grad_(False)
    other = torch.tensor(2.0, requires_grad=True)
    (frozen * other).backward()
    assert frozen.grad is None and other.grad is not None
    # situation 4: a hand update inside no_grad is not recorded and w stays trainable
    w4 = torch.tensor(1.0, requires_grad=True)
    (w4 * 3).backward()
    with torch.no_grad():
        w4 -= 0.1 * w4.grad
    assert w4.grad_fn is None and w4.requires_grad and w4.is_leaf
    # situation 5: a detached target passes no gradient; requires_grad_ on it raises
    m = torch.tensor(2.0, requires_grad=True)
    target = m * 0.5
    with pytest.raises(RuntimeError):
        target.requires_grad_(False)
    ((m * 1.0 - target.detach()) ** 2).backward()
    assert m.grad.item() == pytest.approx(2 * (2.0 - 1.0))  # through the prediction only


def test_no_grad_choices_cannot_be_solved_by_elimination() -> None:
    from autograd_lab.exercises.choice_checks import OPTIONS, SITUATIONS

    answers = [item.answer for item in SITUATIONS.values()]
    assert len(SITUATIONS) > len(OPTIONS)  # some option fits two situations
    assert set(answers) == set(OPTIONS)  # and every option fits at least one


ODD_ANSWERS = ["0.5", [1.0, 2.0], {"a": 1}, True, float("nan"), float("inf"), object(),
               torch.tensor([1.0, 2.0]), np.array([1.0, 2.0]), lambda: 1, b"1", 1j]


@pytest.mark.parametrize("answer", ODD_ANSWERS, ids=lambda a: type(a).__name__)
def test_odd_answers_never_raise(answer) -> None:
    for verdict in (
        check_gradient("exp_cos", "x", answer),
        check_grad_sequence(answer, answer, answer),
        check_intermediate_grad(answer),
        check_no_grad_choice(1, answer),
        check_no_grad_loop(answer),
        check_training_loop(answer),
    ):
        assert isinstance(verdict, Verdict) and not verdict.ok
        assert "\n" not in repr(verdict)


def test_student_functions_that_misbehave_never_raise() -> None:
    def boom(*args):
        raise ZeroDivisionError("division by zero")

    def wrong_shape(*args):
        return "w", "b"

    for fn in (boom, wrong_shape, lambda *a: 3.0, lambda *a: (1.0,)):
        for check in (check_intermediate_grad, check_no_grad_loop, check_training_loop):
            verdict = check(fn)
            assert isinstance(verdict, Verdict) and not verdict.ok and verdict.mistake is None


def test_unknown_exercise_is_a_verdict() -> None:
    for verdict in (check_gradient("nope", "x", 1.0), check_gradient("exp_cos", "q", 1.0),
                    check_no_grad_choice(9, "a")):
        assert isinstance(verdict, Verdict) and not verdict.ok


def test_verdict_is_frozen_and_one_line() -> None:
    verdict = Verdict(False, "sign_error", "Not quite: wrong sign")
    assert repr(verdict) == str(verdict) == "✗ Not quite: wrong sign (sign_error)"
    assert repr(Verdict(True, None, "Correct: dz/dx = -5.4668")) == "✓ Correct: dz/dx = -5.4668"
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.ok = True  # type: ignore[misc]
    with pytest.raises(ValueError):
        Verdict(False, "made_up", "x")


#: The lesson-11 codes, each fed in tests/test_engine_exercises.py.
ENGINE_CODES = {"missing_upstream_grad", "grad_overwritten", "wrong_order", "recursive_order",
                "wrong_grad_count"}
#: Lesson 09's codes, each fed in tests/test_exercises_higher_order.py.
HIGHER_ORDER_CODES = {"accumulated_not_returned", "missing_create_graph",
                      "missing_retain_graph", "first_derivative_only"}
#: The tensors_and_hooks codes; tests/test_exercises_tensors.py feeds each of them.
TENSOR_CODES = {"wrong_shape", "hook_not_returned", "detach_wrong_place", "not_detached"}


#: Issue 13's codes fed by the loop and intermediate-gradient tests above (not MISTAKE_CASES).
LOOP_CODES = {"non_leaf_grad", "not_zeroed", "params_never_moved", "update_not_in_place",
              "retain_grad_not_called"}


def test_every_mistake_code_is_exercised() -> None:
    from tests.test_check_holes import HOLE_CODES
    from tests.test_network_exercises import NETWORK_CODES
    from tests.test_new_exercises import NEW_EXERCISE_CODES

    elsewhere = (ENGINE_CODES | HIGHER_ORDER_CODES | TENSOR_CODES | HOLE_CODES
                 | NEW_EXERCISE_CODES | NETWORK_CODES)
    fed = {code for code, _ in MISTAKE_CASES} | LOOP_CODES
    assert fed == set(MISTAKES) - elsewhere
    assert set(MISTAKES) == {"missing_chain_factor", "sign_error", "not_zeroed",
                             "non_leaf_grad", "wrong_reduction", "not_attempted",
                             "gradient_not_step", "tanh_not_squared", "wrong_variable",
                             "params_never_moved", "update_not_in_place",
                             "retain_grad_not_called"} | elsewhere


def test_truth_rejects_a_wrong_autograd() -> None:
    """The finite-difference cross-check catches a function whose backward is wrong."""

    class Bad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x**2

        @staticmethod
        def backward(ctx, grad):
            return grad * 3.0

    with pytest.raises(truth.TruthError):
        truth.partial(lambda x: Bad.apply(x), {"x": 1.0}, "x")


@pytest.mark.parametrize(
    ("exercise", "expression", "values"),
    [
        ("exp_cos", "exp(cos(x))", {"x": 2.0}),
        ("tanh_unit", "tanh(w*x + b)", {"w": -0.8, "x": 1.5, "b": 0.3}),
        ("x_exp_xy", "x*exp(y*x)", {"x": 0.5, "y": -1.2}),
    ],
)
def test_truth_agrees_with_the_kits_hand_derivation(exercise, expression, values) -> None:
    """autograd_lab.derive's manual chain rule gives the same partials as the checks' truth."""
    from autograd_lab import derive

    gradient = derive(expression, **values).gradient
    for wrt, quantity in EXERCISES[exercise].items():
        assert gradient[wrt] == pytest.approx(quantity.truth(), rel=1e-9)


# --- student code that hangs, exits or is checked inside no_grad / inference_mode ------------
from autograd_lab import exercises  # noqa: E402
from autograd_lab.exercises import student_code as limits  # noqa: E402


def _forever(*args):
    while True:
        pass


class _SlowFunction(torch.autograd.Function):
    """A custom Function whose forward never returns."""

    @staticmethod
    def forward(ctx, x, y):
        _forever()

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class _SlowFloat(float):
    """An answer whose float() never returns."""

    def __float__(self) -> float:
        while True:
            pass


HANGING = [
    ("train_fixed", lambda: check_training_loop(_forever)),
    ("fit_fixed", lambda: check_no_grad_loop(_forever)),
    ("grad_wrt_h", lambda: check_intermediate_grad(_forever)),
    ("dz_dx", lambda: check_gradient("exp_cos", "x", _SlowFloat(1.0))),
    # the checks of lessons 09, 10 and 11 run student code through the same guard
    ("sin", lambda: exercises.check_sin(_forever)),
    ("backward_fixed", lambda: exercises.check_backward_order(_forever)),
    ("XExpY", lambda: exercises.check_x_exp_y(_SlowFunction)),
    ("slope", lambda: exercises.check_slope(_forever)),
    ("second_derivative", lambda: exercises.check_second_derivative(_forever)),
    ("hvp", lambda: exercises.check_hvp(_forever)),
    ("clip_hook", lambda: exercises.check_clip_hook(_forever)),
    ("td_loss", lambda: exercises.check_target_loss(_forever)),
]


@pytest.mark.parametrize(("name", "run"), HANGING, ids=[n for n, _ in HANGING])
def test_a_check_on_code_that_never_returns_ends_with_a_verdict(
    name: str, run, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal
    import time

    # The point is that a verdict arrives, whatever the limit: 0.1 s for every check, and
    # 0.5 s for the first, so one case still lets the check run well past its start.
    limit = 0.5 if name == HANGING[0][0] else 0.1
    monkeypatch.setattr(limits, "TIME_LIMIT", limit)
    handler = signal.getsignal(signal.SIGALRM)
    timer = signal.getitimer(signal.ITIMER_REAL)[0]  # pytest-timeout's, or none
    start = time.monotonic()
    verdict = run()
    assert time.monotonic() - start < 5
    assert isinstance(verdict, Verdict) and not verdict.ok
    assert verdict.message == f"{name} did not finish in {limit:g} s — a loop that never ends?"
    # the kernel's own alarm (if any) and its handler are left as they were
    left = signal.getitimer(signal.ITIMER_REAL)[0]
    assert (left == 0.0) if timer == 0.0 else (0.0 < left <= timer)
    assert signal.getsignal(signal.SIGALRM) is handler


def test_time_limit_default_is_about_ten_seconds() -> None:
    assert limits.TIME_LIMIT == 10.0


def test_an_except_exception_in_student_code_cannot_swallow_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "TIME_LIMIT", 0.3)

    def stubborn(*args):
        while True:
            try:
                _forever()
            except Exception:  # noqa: BLE001, S112 - what a student might write
                continue

    assert "did not finish" in check_training_loop(stubborn).message


@pytest.mark.parametrize(
    "run",
    [
        lambda fn: check_training_loop(fn),
        lambda fn: check_no_grad_loop(fn),
        lambda fn: check_intermediate_grad(fn),
    ],
)
def test_sys_exit_in_student_code_does_not_escape(run) -> None:
    import sys

    def leaves(*args):
        sys.exit(3)

    verdict = run(leaves)
    assert isinstance(verdict, Verdict) and not verdict.ok
    assert "sys.exit(3)" in verdict.message and "\n" not in repr(verdict)


def test_keyboard_interrupt_still_interrupts() -> None:
    def interrupted(*args):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check_training_loop(interrupted)
    with pytest.raises(KeyboardInterrupt):
        check_intermediate_grad(interrupted)


def test_off_the_main_thread_checks_still_work_without_a_limit() -> None:
    import threading

    results: list[Verdict] = []
    worker = threading.Thread(target=lambda: results.append(check_training_loop(_loop())))
    worker.start()
    worker.join(60)
    assert results and results[0].ok, results
    with limits.time_limit(1.0) as limited:
        assert limited  # here, on the main thread, the alarm is available


MODES = {"no_grad": torch.no_grad, "inference_mode": torch.inference_mode}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_correct_answers_are_correct_inside_no_grad_and_inference_mode(mode: str) -> None:
    with MODES[mode]():
        for (exercise, wrt), value in CLOSED_FORM.items():
            answer = value if exercise in BY_HAND else torch.tensor(value)
            verdict = check_gradient(exercise, wrt, answer)
            assert verdict.ok, (exercise, wrt, verdict)
        assert check_training_loop(_loop()).ok
        assert check_no_grad_loop(_loop()).ok
        assert check_no_grad_loop(_loop(zero=False)).mistake == "not_zeroed"
        assert check_intermediate_grad(_grad_of_h_right).ok
        assert check_grad_sequence(6.75, 10.75, 4.0).ok
        assert truth.partial(lambda x: x**3, {"x": 1.5}, "x") == pytest.approx(6.75, rel=1e-12)
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()


@pytest.mark.parametrize("exercise", [["exp_cos"], None, 3, ("exp_cos",)], ids=repr)
def test_exercise_name_of_the_wrong_type_is_a_verdict(exercise) -> None:
    verdict = check_gradient(exercise, "x", 1.0)
    assert isinstance(verdict, Verdict) and not verdict.ok
    assert 'check_gradient("exp_cos", "x", dz_dx)' in verdict.message
    assert not check_gradient("exp_cos", ["x"], 1.0).ok


def test_every_blank_answer_is_named() -> None:
    verdict = check_grad_sequence(..., 4.0, None)
    assert not verdict.ok and verdict.mistake == "not_attempted"
    assert "grad_after_A, grad_after_C " in verdict.message
    assert "grad_after_B" not in verdict.message


# --- issue 28: long and huge answers get one short sentence -------------------------------------
def test_an_answer_too_large_for_a_float_is_a_sentence_not_an_overflow() -> None:
    verdict = check_gradient("exp_cos", "x", 10**400)
    assert not verdict.ok and "OverflowError" not in verdict.message
    assert "too large for a float" in verdict.message and len(verdict.message) < 120


def test_a_huge_float_answer_is_echoed_in_a_few_characters() -> None:
    verdict = check_gradient("exp_cos", "x", 1e308)
    assert not verdict.ok and "1e+308" in verdict.message
    assert len(verdict.message) < 160, len(verdict.message)


def test_a_long_student_error_message_is_cut_to_one_short_line() -> None:
    from autograd_lab.exercises import check_slope

    def slope(x):
        raise ValueError("the student's own message " * 117 + "\nsecond line")  # 3,042 chars

    verdict = check_slope(slope)
    assert not verdict.ok and "ValueError" in verdict.message
    assert "\n" not in verdict.message and len(verdict.message) < 120, len(verdict.message)


# --- issue 28: student code that fights the limit, or raises what is not an Exception ----------
class _StudentStop(BaseException):
    """A student's own BaseException subclass."""


def _swallows_everything(*args):
    """A loop that swallows the alarm and any exception injected into it."""
    while True:
        try:
            while True:
                pass
        except BaseException:  # noqa: BLE001, S110 - what the red team wrote
            pass


def _disarms_the_alarm(*args):
    import signal

    signal.setitimer(signal.ITIMER_REAL, 0)
    while True:
        pass


@pytest.mark.parametrize("student", [_swallows_everything, _disarms_the_alarm],
                         ids=["except_BaseException", "setitimer_0"])
def test_student_code_cannot_defeat_the_limit(student, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(limits, "TIME_LIMIT", 0.2)  # the kernel kills the copy: any limit shows it
    for run in (check_training_loop, check_intermediate_grad, exercises.check_slope):
        start = time.monotonic()
        verdict = run(student)
        assert time.monotonic() - start < 3  # was 8 s and 6 s with a 3 s limit
        assert not verdict.ok and "did not finish in 0.2 s" in verdict.message


@pytest.mark.parametrize("error", [GeneratorExit, _StudentStop, SystemExit])
def test_a_base_exception_from_student_code_is_a_verdict(error) -> None:
    def raises(*args):
        raise error

    for run in (check_training_loop, check_intermediate_grad, exercises.check_hvp):
        verdict = run(raises)
        assert isinstance(verdict, Verdict) and not verdict.ok
        assert "would stop the check" in verdict.message and "\n" not in verdict.message


def test_os_exit_in_student_code_is_a_verdict() -> None:
    import os

    def leaves(*args):
        os._exit(0)

    verdict = check_training_loop(leaves)
    assert not verdict.ok and "ended the check's process" in verdict.message


def test_kernel_interrupt_gets_through_code_that_swallows_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os
    import signal
    import threading
    import time

    monkeypatch.setattr(limits, "TIME_LIMIT", 20.0)
    # Kernel → Interrupt is a SIGINT to the kernel process (and its process group)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            check_training_loop(_swallows_everything)
    finally:
        timer.cancel()
    assert time.monotonic() - start < 5


def test_the_check_runs_in_a_copy_and_the_kernel_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    pids = []

    def right_and_records(*args):
        pids.append(os.getpid())
        return _grad_of_h_right(*args)

    assert check_intermediate_grad(right_and_records).ok
    assert pids == []  # the student's code ran in the copy: the kernel's list is untouched
    monkeypatch.setattr(limits, "ISOLATED", False)
    assert check_intermediate_grad(right_and_records).ok and set(pids) == {os.getpid()}
