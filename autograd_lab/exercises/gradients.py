"""Numeric exercises: gradients derived by hand, and one gradient-descent step by hand.

Each exercise is a torch function of float64 scalars; the true answer is its autograd partial
(checked against a central difference), and each plausible wrong answer is computed the way
a student who made that slip would compute it -- e.g. for ``z = exp(cos(x))``:

* correct:               ``dz/dx = dz/du · du/dx = exp(u) · (-sin(x))``, ``u = cos(x)``
* missing_chain_factor:  ``dz/du`` alone (the inner derivative ``du/dx`` left out)
* sign_error:            ``-dz/dx``

``check_gradient(exercise, wrt, answer)`` compares an answer with all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from autograd_lab.exercises import truth
from autograd_lab.exercises.limits import run_check
from autograd_lab.exercises.verdict import (
    AnswerError,
    Verdict,
    as_number,
    cannot_check,
    close,
    correct,
    not_attempted,
    unanswered,
    wrong,
)


@dataclass(frozen=True)
class WrongAnswer:
    """A plausible wrong answer: its mistake code, the hint shown, and how to compute it."""

    mistake: str | None
    hint: str
    compute: Callable[[], float]


@dataclass(frozen=True)
class Quantity:
    """One number a student is asked for (``label`` such as ``dz/dx``, ``variable`` ``dz_dx``)."""

    label: str
    variable: str
    truth: Callable[[], float]
    wrong: tuple[WrongAnswer, ...] = field(default=())
    sign_hint: str | None = "the size is right but the sign is wrong; check each factor's sign"


def _vals(**kw: float) -> dict[str, float]:
    return kw


# --- chain_rule: z = exp(cos(x)) ------------------------------------------------------------
EXP_COS = _vals(x=2.0)


def _exp_cos(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(torch.cos(x))


def _exp_outer_at(u: float) -> float:
    """d exp(u)/du at ``u``: the outer derivative alone."""
    return truth.partial(torch.exp, {"input": u}, "input")


# --- chain_rule: z = tanh(w*x + b) ----------------------------------------------------------
TANH_UNIT = _vals(w=-0.8, x=1.5, b=0.3)


def _tanh_unit(w: torch.Tensor, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.tanh(w * x + b)


def _tanh_outer() -> float:
    u = truth.value(lambda w, x, b: w * x + b, TANH_UNIT)
    return truth.partial(torch.tanh, {"input": u}, "input")


# --- chain_rule: f = x*exp(y*x) -------------------------------------------------------------
X_EXP_XY = _vals(x=0.5, y=-1.2)


def _x_exp_xy(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x * torch.exp(y * x)


def _x_exp_xy_parts() -> tuple[float, float, float]:
    """(exp(y·x), d exp(u)/du at u = y·x, x)."""
    x = X_EXP_XY["x"]
    g = truth.value(lambda x, y: torch.exp(y * x), X_EXP_XY)
    outer = _exp_outer_at(truth.value(lambda x, y: y * x, X_EXP_XY))
    return g, outer, x


# --- neuron_bce: mean BCE of a sigmoid neuron over three samples ----------------------------
NEURON_X = (0.5, -1.2, 2.0)
NEURON_Y = (1.0, 0.0, 1.0)
NEURON = _vals(w=0.8, b=-0.1)


def _neuron_loss(w: torch.Tensor, b: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    x = torch.tensor(NEURON_X, dtype=torch.float64)
    y = torch.tensor(NEURON_Y, dtype=torch.float64)
    return F.binary_cross_entropy(torch.sigmoid(w * x + b), y, reduction=reduction)


def _neuron_dl_dz() -> torch.Tensor:
    """dL/dz_i per sample (torch autograd on z as a leaf, mean reduction)."""
    x = torch.tensor(NEURON_X, dtype=torch.float64)
    y = torch.tensor(NEURON_Y, dtype=torch.float64)
    z = (NEURON["w"] * x + NEURON["b"]).requires_grad_(True)
    (g,) = torch.autograd.grad(F.binary_cross_entropy(torch.sigmoid(z), y), z)
    return g


# --- training: one gradient-descent step on the MSE of a line, by hand ----------------------
STEP_X = (0.0, 1.0, 2.0, 3.0)
STEP_Y = (1.0, 2.5, 4.5, 6.0)
STEP = _vals(w=0.5, b=0.0)
STEP_LR = 0.1


def _step_loss(w: torch.Tensor, b: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    x = torch.tensor(STEP_X, dtype=torch.float64)
    y = torch.tensor(STEP_Y, dtype=torch.float64)
    err = (w * x + b - y) ** 2
    return err.mean() if reduction == "mean" else err.sum()


def _step(wrt: str, grad: float, direction: float = -1.0) -> float:
    return STEP[wrt] + direction * STEP_LR * grad


def _step_residual_mean() -> float:
    """mean(w·x + b - y): the gradient with both chain factors (2 and x) left out."""
    return truth.value(lambda w, b: _step_loss_residual(w, b), STEP)


def _step_loss_residual(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    x = torch.tensor(STEP_X, dtype=torch.float64)
    y = torch.tensor(STEP_Y, dtype=torch.float64)
    return (w * x + b - y).mean()


def _neuron_slips(wrt: str) -> tuple[WrongAnswer, ...]:
    """The slips dL/dw and dL/db share: the summed loss, and dividing by n twice."""
    n = len(NEURON_X)
    return (
        WrongAnswer(
            "wrong_reduction",
            f"this is the gradient of the summed loss; the loss here is the mean "
            f"over n = {n} samples, so divide by n",
            lambda: truth.partial(lambda w, b: _neuron_loss(w, b, "sum"), NEURON, wrt),
        ),
        WrongAnswer(
            "wrong_reduction",
            f"you divided by n = {n} twice; the mean divides by n once",
            lambda: truth.partial(_neuron_loss, NEURON, wrt) / n,
        ),
    )


def _step_slips(wrt: str) -> tuple[WrongAnswer, ...]:
    """The slips a step of w and a step of b share: stepping uphill, and the summed loss."""
    return (
        WrongAnswer(
            "sign_error",
            f"you stepped uphill: gradient descent subtracts, "
            f"{wrt}_new = {wrt} - lr * dL/d{wrt}",
            lambda: _step(wrt, truth.partial(_step_loss, STEP, wrt), direction=+1.0),
        ),
        WrongAnswer(
            "wrong_reduction",
            f"you used the summed squared error; the MSE is the mean over "
            f"n = {len(STEP_X)} points, so divide the gradient by n",
            lambda: _step(
                wrt, truth.partial(lambda w, b: _step_loss(w, b, "sum"), STEP, wrt)
            ),
        ),
    )


def _build() -> dict[str, dict[str, Quantity]]:
    p = truth.partial
    return {
        "exp_cos": {
            "x": Quantity(
                "dz/dx",
                "dz_dx",
                lambda: p(_exp_cos, EXP_COS, "x"),
                (
                    WrongAnswer(
                        "missing_chain_factor",
                        "it looks like you left out the inner derivative du/dx = -sin(x) "
                        "(with u = cos(x), dz/dx = dz/du · du/dx)",
                        lambda: _exp_outer_at(truth.value(torch.cos, {"input": 2.0})),
                    ),
                ),
                "the size is right but the sign is wrong: d/dx cos(x) = -sin(x)",
            ),
        },
        "tanh_unit": {
            "w": Quantity(
                "dz/dw",
                "dz_dw",
                lambda: p(_tanh_unit, TANH_UNIT, "w"),
                (
                    WrongAnswer(
                        "missing_chain_factor",
                        "it looks like you left out the inner derivative du/dw = x "
                        "(with u = w*x + b, dz/dw = dz/du · du/dw)",
                        _tanh_outer,
                    ),
                ),
                "the size is right but the sign is wrong: d/du tanh(u) = 1 - tanh(u)**2 "
                "is never negative",
            ),
            "b": Quantity(
                "dz/db",
                "dz_db",
                lambda: p(_tanh_unit, TANH_UNIT, "b"),
                (),
                "the size is right but the sign is wrong: d/du tanh(u) = 1 - tanh(u)**2 "
                "is never negative",
            ),
        },
        "x_exp_xy": {
            "x": Quantity(
                "df/dx",
                "df_dx",
                lambda: p(_x_exp_xy, X_EXP_XY, "x"),
                (
                    WrongAnswer(
                        "missing_chain_factor",
                        "it looks like you left out the inner derivative du/dx = y inside "
                        "exp(u), u = y*x",
                        lambda: (lambda g, outer, x: g + x * outer)(*_x_exp_xy_parts()),
                    ),
                    WrongAnswer(
                        None,
                        "you used only half of the product rule: d(x·g)/dx = g + x·dg/dx",
                        lambda: p(_x_exp_xy, X_EXP_XY, "x")
                        - truth.value(lambda x, y: torch.exp(y * x), X_EXP_XY),
                    ),
                ),
            ),
            "y": Quantity(
                "df/dy",
                "df_dy",
                lambda: p(_x_exp_xy, X_EXP_XY, "y"),
                (
                    WrongAnswer(
                        "missing_chain_factor",
                        "it looks like you left out the inner derivative du/dy = x inside "
                        "exp(u), u = y*x",
                        lambda: (lambda g, outer, x: x * outer)(*_x_exp_xy_parts()),
                    ),
                ),
            ),
        },
        "neuron_mean": {
            "w": Quantity(
                "dL/dw",
                "dL_dw",
                lambda: p(_neuron_loss, NEURON, "w"),
                (
                    *_neuron_slips("w"),
                    WrongAnswer(
                        "missing_chain_factor",
                        "it looks like you left out dz/dw = x: multiply each sample's "
                        "dL/dz = y_pred - y by its own x before averaging",
                        lambda: float(_neuron_dl_dz().sum()),
                    ),
                ),
                "the size is right but the sign is wrong: dL/dz = y_pred - y, not y - y_pred",
            ),
            "b": Quantity(
                "dL/db",
                "dL_db",
                lambda: p(_neuron_loss, NEURON, "b"),
                (
                    *_neuron_slips("b"),
                ),
                "the size is right but the sign is wrong: dL/dz = y_pred - y, not y - y_pred",
            ),
        },
        "sgd_step": {
            "w": Quantity(
                "w after one step",
                "w_new",
                lambda: _step("w", p(_step_loss, STEP, "w")),
                (
                    *_step_slips("w"),
                    WrongAnswer(
                        "missing_chain_factor",
                        "it looks like you left out the inner derivative d(w*x + b)/dw = x",
                        lambda: _step(
                            "w", 2 * truth.value(lambda w, b: _step_loss_residual(w, b), STEP)
                        ),
                    ),
                    WrongAnswer(
                        "missing_chain_factor",
                        "it looks like you left out the outer derivative d(e**2)/de = 2e",
                        lambda: _step("w", p(_step_loss, STEP, "w") / 2),
                    ),
                ),
                None,
            ),
            "b": Quantity(
                "b after one step",
                "b_new",
                lambda: _step("b", p(_step_loss, STEP, "b")),
                (
                    *_step_slips("b"),
                    WrongAnswer(
                        "missing_chain_factor",
                        "it looks like you left out the outer derivative d(e**2)/de = 2e",
                        lambda: _step("b", _step_residual_mean()),
                    ),
                ),
                None,
            ),
        },
    }


#: exercise name -> variable it is differentiated with respect to -> Quantity
EXERCISES: dict[str, dict[str, Quantity]] = _build()


def check_quantity(quantity: Quantity, answer: object) -> Verdict:
    """Compare ``answer`` with the truth, then with each plausible wrong answer."""
    if unanswered(answer):
        return not_attempted(quantity.variable)
    try:
        given = as_number(answer, quantity.variable)
    except AnswerError as exc:
        return wrong(f"{exc}")
    expected = quantity.truth()
    if close(given, expected):
        return correct(quantity.label, given)
    for candidate in quantity.wrong:
        if close(given, candidate.compute()):
            return wrong(candidate.hint, candidate.mistake)
    if quantity.sign_hint and not close(expected, 0.0) and close(given, -expected):
        return wrong(quantity.sign_hint, "sign_error")
    return wrong(
        f"{quantity.label} = {given:.4f} is not what the chain rule gives here; write out "
        f"each local derivative and multiply them along the path"
    )


def check_gradient(exercise: str, wrt: str, answer: object) -> Verdict:
    """Check ``answer`` for exercise ``exercise`` (e.g. ``"tanh_unit"``) with respect to ``wrt``.

    Never raises: an unknown exercise or an internal problem is reported as a Verdict. The
    truth is computed with gradients on, also when called inside ``torch.no_grad()``, and an
    answer whose ``float()`` never returns gets "did not finish" (see ``limits``).
    """
    if not isinstance(exercise, str) or not isinstance(wrt, str):
        given = f"{exercise!r}, {wrt!r}"
        return Verdict(
            False,
            None,
            "Cannot check: give the exercise and the variable as two strings, e.g. "
            f'check_gradient("exp_cos", "x", dz_dx), not {given[:40]}',
        )
    quantities = EXERCISES.get(exercise)
    if quantities is None or wrt not in quantities:
        known = ", ".join(f"{e}/{v}" for e, qs in EXERCISES.items() for v in qs)
        return Verdict(
            False, None, f"Cannot check: there is no exercise {exercise}/{wrt} (known: {known})"
        )
    try:
        quantity = quantities[wrt]
        return run_check(quantity.variable, check_quantity, quantity, answer)
    except Exception as exc:  # noqa: BLE001 - a check must never show a traceback
        return cannot_check(exc)
