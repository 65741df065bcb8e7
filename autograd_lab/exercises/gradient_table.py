"""The numeric exercises as a table: each quantity's truth and its plausible wrong answers.

The truth is the autograd partial of a torch float64 function (checked against a central
difference); each wrong answer is computed the way a student making that slip would, e.g. for
``z = exp(cos(x))`` the outer derivative alone (``missing_chain_factor``) or ``-dz/dx``
(``sign_error``); also tanh' without its square, another variable's partial, the gradient
where the updated parameter was asked, the summed loss. Each wrong answer has the kind of
mistake (a first wrong try) and a ``detail`` (the factor itself, for a second try or
``verdict.hint()``). ``gradient_checks.check_gradient`` uses this table.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from autograd_lab.exercises import ground_truth
from autograd_lab.exercises.finite_difference_checks import CUBIC_QUANTITIES
from autograd_lab.exercises.quantity import Quantity, WrongAnswer

# --- chain_rule: z = exp(cos(x)) ------------------------------------------------------------
EXP_COS = {"x": 2.0}


def _exp_cos(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(torch.cos(x))


def _exp_outer_at(u: float) -> float:
    """d exp(u)/du at ``u``: the outer derivative alone."""
    return ground_truth.partial(torch.exp, {"input": u}, "input")


# --- chain_rule: z = tanh(w*x + b) ----------------------------------------------------------
TANH_UNIT = {"w": -0.8, "x": 1.5, "b": 0.3}


def _tanh_unit(w: torch.Tensor, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.tanh(w * x + b)


def _tanh_outer() -> float:
    u = ground_truth.value(lambda w, x, b: w * x + b, TANH_UNIT)
    return ground_truth.partial(torch.tanh, {"input": u}, "input")


# --- chain_rule: f = x*exp(y*x) -------------------------------------------------------------
X_EXP_XY = {"x": 0.5, "y": -1.2}


def _x_exp_xy(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x * torch.exp(y * x)


def _x_exp_xy_parts() -> tuple[float, float, float]:
    """(exp(y·x), d exp(u)/du at u = y·x, x)."""
    x = X_EXP_XY["x"]
    g = ground_truth.value(lambda x, y: torch.exp(y * x), X_EXP_XY)
    outer = _exp_outer_at(ground_truth.value(lambda x, y: y * x, X_EXP_XY))
    return g, outer, x


# --- neuron_bce: mean BCE of a sigmoid neuron over three samples ----------------------------
NEURON_X = (0.5, -1.2, 2.0)
NEURON_Y = (1.0, 0.0, 1.0)
NEURON = {"w": 0.8, "b": -0.1}


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
STEP = {"w": 0.5, "b": 0.0}
STEP_LR = 0.1


def _step_loss(w: torch.Tensor, b: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    x = torch.tensor(STEP_X, dtype=torch.float64)
    y = torch.tensor(STEP_Y, dtype=torch.float64)
    err = (w * x + b - y) ** 2
    return err.mean() if reduction == "mean" else err.sum()


def _step(wrt: str, grad: float, direction: float = -1.0) -> float:
    return STEP[wrt] + direction * STEP_LR * grad


def _step_residual_mean() -> float:
    """mean(w·x + b - y): the gradient of the MSE with the chain factors 2 and x left out."""
    x = torch.tensor(STEP_X, dtype=torch.float64)
    y = torch.tensor(STEP_Y, dtype=torch.float64)
    return ground_truth.value(lambda w, b: (w * x + b - y).mean(), STEP)


def _tanh_unsquared() -> float:
    """1 - tanh(u) at u = w·x + b: tanh's derivative with the square left out."""
    return 1 - ground_truth.value(_tanh_unit, TANH_UNIT)


def _neuron_slips(wrt: str) -> tuple[WrongAnswer, ...]:
    """The slips dL/dw and dL/db share: the summed loss, dividing by n twice, the other
    parameter's gradient."""
    n = len(NEURON_X)
    other = "b" if wrt == "w" else "w"
    return (
        WrongAnswer(
            "wrong_reduction",
            "this is the gradient of the summed loss; the loss here is the mean",
            lambda: ground_truth.partial(lambda w, b: _neuron_loss(w, b, "sum"), NEURON, wrt),
            f"the mean over n = {n} samples divides the summed gradient by n",
        ),
        WrongAnswer(
            "wrong_reduction",
            "you divided by n twice; the mean divides by n once",
            lambda: ground_truth.partial(_neuron_loss, NEURON, wrt) / n,
            f"n = {n}: either average dL/dz over the samples or divide the sum by n, not both",
        ),
        WrongAnswer(
            "wrong_variable",
            f"this is dL/d{other}; the question asks for dL/d{wrt}",
            lambda: ground_truth.partial(_neuron_loss, NEURON, other),
            f"dz/d{wrt} = {'x' if wrt == 'w' else '1'}: multiply each sample's dL/dz by it",
        ),
    )


def _step_slips(wrt: str) -> tuple[WrongAnswer, ...]:
    """The slips a step of w and a step of b share: stepping uphill, the summed loss, the
    gradient itself given as the answer, the other parameter's gradient."""
    n = len(STEP_X)
    other = "b" if wrt == "w" else "w"
    return (
        WrongAnswer(
            "sign_error",
            "you stepped uphill: gradient descent subtracts the gradient",
            lambda: _step(wrt, ground_truth.partial(_step_loss, STEP, wrt), direction=+1.0),
            f"{wrt}_new = {wrt} - lr * dL/d{wrt}",
        ),
        WrongAnswer(
            "wrong_reduction",
            "you used the summed squared error; the MSE is the mean",
            lambda: _step(
                wrt, ground_truth.partial(lambda w, b: _step_loss(w, b, "sum"), STEP, wrt)
            ),
            f"divide the summed gradient by n = {n} points",
        ),
        WrongAnswer(
            "gradient_not_step",
            f"this is the gradient dL/d{wrt}; the question asks for {wrt} after the update",
            lambda: ground_truth.partial(_step_loss, STEP, wrt),
            f"{wrt}_new = {wrt} - lr * dL/d{wrt}, with {wrt} = {STEP[wrt]} and lr = {STEP_LR}",
        ),
        WrongAnswer(
            "wrong_variable",
            f"you stepped {wrt} with dL/d{other}; each parameter moves by its own gradient",
            lambda: _step(wrt, ground_truth.partial(_step_loss, STEP, other)),
            f"{wrt}_new = {wrt} - lr * dL/d{wrt}",
        ),
    )


def _build() -> dict[str, dict[str, Quantity]]:
    p = ground_truth.partial
    tanh_sign = "the size is right but the sign is wrong: tanh's derivative is never negative"
    return {
        "cubic": CUBIC_QUANTITIES,  # lesson 01 (autograd_lab/exercises/finite_difference_checks.py)
        "exp_cos": {
            "x": Quantity(
                "dz/dx",
                "dz_dx",
                lambda: p(_exp_cos, EXP_COS, "x"),
                (
                    WrongAnswer(
                        "missing_chain_factor",
                        "it looks like you left out the inner derivative "
                        "(dz/dx = dz/du · du/dx)",
                        lambda: _exp_outer_at(ground_truth.value(torch.cos, {"input": 2.0})),
                        "with u = cos(x), the inner derivative is du/dx = -sin(x)",
                    ),
                    WrongAnswer(
                        "derivative_inside_outer",
                        "you replaced the inner function by its derivative inside exp; the "
                        "chain rule keeps exp at u = cos(x) and multiplies by du/dx",
                        lambda: math.exp(-math.sin(2.0)),
                        "dz/dx = exp(cos(x)) · (-sin(x)), not exp(-sin(x))",
                    ),
                    WrongAnswer(
                        "degrees_not_radians",
                        "your value matches x = 2 read as degrees; math.sin and math.cos "
                        "take radians, and x = 2 here means 2 radians: do not convert",
                        lambda: math.exp(math.cos(math.radians(2.0)))
                        * -math.sin(math.radians(2.0)),
                        "use math.cos(x) and math.sin(x) with x = 2, without math.radians",
                    ),
                ),
                "the size is right but the sign is wrong; check the sign of each factor",
                "d/dx cos(x) = -sin(x)",
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
                        "it looks like you left out the inner derivative "
                        "(dz/dw = dz/du · du/dw)",
                        _tanh_outer,
                        "with u = w*x + b, the inner derivative is du/dw = x",
                    ),
                    WrongAnswer(
                        "tanh_not_squared",
                        "tanh's derivative is not 1 - tanh(u); look at it again",
                        lambda: _tanh_unsquared() * TANH_UNIT["x"],
                        "d/du tanh(u) = 1 - tanh(u)**2 (the square matters)",
                    ),
                    WrongAnswer(
                        "wrong_variable",
                        "this is dz/dx; the question asks for dz/dw",
                        lambda: p(_tanh_unit, TANH_UNIT, "x"),
                        "with u = w*x + b, du/dw = x, not w",
                    ),
                ),
                tanh_sign,
                "d/du tanh(u) = 1 - tanh(u)**2 is never negative; du/dw = x",
            ),
            "b": Quantity(
                "dz/db",
                "dz_db",
                lambda: p(_tanh_unit, TANH_UNIT, "b"),
                (
                    WrongAnswer(
                        "tanh_not_squared",
                        "tanh's derivative is not 1 - tanh(u); look at it again",
                        _tanh_unsquared,
                        "d/du tanh(u) = 1 - tanh(u)**2 (the square matters)",
                    ),
                    WrongAnswer(
                        "wrong_variable",
                        "this is dz/dw; the question asks for dz/db",
                        lambda: p(_tanh_unit, TANH_UNIT, "w"),
                        "with u = w*x + b, du/db = 1",
                    ),
                    WrongAnswer(
                        "wrong_variable",
                        "this is dz/dx; the question asks for dz/db",
                        lambda: p(_tanh_unit, TANH_UNIT, "x"),
                        "with u = w*x + b, du/db = 1",
                    ),
                ),
                tanh_sign,
                "d/du tanh(u) = 1 - tanh(u)**2 is never negative; du/db = 1",
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
                        "it looks like you left out the inner derivative inside exp(u), "
                        "u = y*x",
                        lambda: (lambda g, outer, x: g + x * outer)(*_x_exp_xy_parts()),
                        "du/dx = y",
                    ),
                    WrongAnswer(
                        None,
                        "you used only half of the product rule",
                        lambda: p(_x_exp_xy, X_EXP_XY, "x")
                        - ground_truth.value(lambda x, y: torch.exp(y * x), X_EXP_XY),
                        "d(x·g)/dx = g + x·dg/dx, with g = exp(y*x)",
                    ),
                    WrongAnswer(
                        "wrong_variable",
                        "this is df/dy; the question asks for df/dx",
                        lambda: p(_x_exp_xy, X_EXP_XY, "y"),
                        "d(x·g)/dx = g + x·dg/dx, with g = exp(y*x) and du/dx = y",
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
                        "it looks like you left out the inner derivative inside exp(u), "
                        "u = y*x",
                        lambda: (lambda g, outer, x: x * outer)(*_x_exp_xy_parts()),
                        "du/dy = x",
                    ),
                    WrongAnswer(
                        "wrong_variable",
                        "this is df/dx; the question asks for df/dy",
                        lambda: p(_x_exp_xy, X_EXP_XY, "x"),
                        "the first factor x does not depend on y; only exp(y*x) does, "
                        "with du/dy = x",
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
                    WrongAnswer(
                        "missing_chain_factor",
                        "it looks like you left out the last link of the chain, dz/dw",
                        lambda: float(_neuron_dl_dz().sum()),
                        "dz/dw = x: multiply each sample's dL/dz = y_pred - y by its own x "
                        "before averaging",
                    ),
                    *_neuron_slips("w"),  # after: without x, dL/dw = dL/db
                ),
                "the size is right but the sign is wrong; check dL/dz",
                "dL/dz = y_pred - y, not y - y_pred",
            ),
            "b": Quantity(
                "dL/db",
                "dL_db",
                lambda: p(_neuron_loss, NEURON, "b"),
                _neuron_slips("b"),
                "the size is right but the sign is wrong; check dL/dz",
                "dL/dz = y_pred - y, not y - y_pred",
            ),
        },
        "sgd_step": {
            "w": Quantity(
                "w after one step",
                "w_new",
                lambda: _step("w", p(_step_loss, STEP, "w")),
                (
                    WrongAnswer(
                        "missing_chain_factor",
                        "it looks like you left out the inner derivative of the error "
                        "e = w*x + b - y",
                        lambda: _step("w", 2 * _step_residual_mean()),
                        "de/dw = x: each point's 2e is multiplied by its own x",
                    ),
                    WrongAnswer(
                        "missing_chain_factor",
                        "it looks like you left out the outer derivative, of the square",
                        lambda: _step("w", p(_step_loss, STEP, "w") / 2),
                        "d(e**2)/de = 2e",
                    ),
                    *_step_slips("w"),  # after: without x, dL/dw = dL/db
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
                        "it looks like you left out the outer derivative, of the square",
                        lambda: _step("b", _step_residual_mean()),
                        "d(e**2)/de = 2e",
                    ),
                ),
                None,
            ),
        },
    }


#: exercise name -> variable it is differentiated with respect to -> Quantity
EXERCISES: dict[str, dict[str, Quantity]] = _build()
