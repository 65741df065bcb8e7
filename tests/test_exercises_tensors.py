"""The tensors_and_hooks checks: truth, every mistake code, "not attempted", never a traceback.

Expected values are closed forms written here with ``math`` (independent of the checks),
and each wrong answer is computed the way a student making that slip would write it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from autograd_lab.exercises import (
    MISTAKES,
    Verdict,
    check_clip_hook,
    check_jacobian,
    check_target_loss,
    check_weight_grad,
)
from autograd_lab.exercises import tensor_checks as T

# --- closed forms ------------------------------------------------------------------------------
_h = [sum(w * x for w, x in zip(row, T.WEIGHT_X, strict=True)) for row in T.WEIGHT_W]
WEIGHT_GRAD = [[2 * (h - t) * x for x in T.WEIGHT_X] for h, t in zip(_h, T.WEIGHT_T, strict=True)]

X0, X1 = T.JACOBIAN_X
JACOBIAN = [[X1, X0], [2 * X0, -1.0], [math.cos(X0), 0.0]]

HOOK_GRAD = [max(-1.0, min(1.0, c)) * 2 * x for c, x in zip(T.HOOK_C, T.HOOK_X, strict=True)]


def semi_gradient(w: float, x: float, x_next: float, r: float) -> float:
    return 2 * (w * x - (r + T.GAMMA * w * x_next)) * x


TENSOR_CODES = {"wrong_shape", "hook_not_returned", "detach_wrong_place", "not_detached"}


def test_truth_matches_closed_forms() -> None:
    assert T.weight_grad_truth().tolist() == pytest.approx(
        [pytest.approx(row, rel=1e-9) for row in WEIGHT_GRAD]
    )
    got = T.jacobian_truth(T.jacobian_fn, torch.tensor(T.JACOBIAN_X, dtype=torch.float64))
    for row, expected in zip(got.tolist(), JACOBIAN, strict=True):
        assert row == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert T.hook_truth().tolist() == pytest.approx(HOOK_GRAD, rel=1e-9)
    for case in T.TARGET_CASES:
        assert T.target_grads(case)["truth"] == pytest.approx(semi_gradient(*case), rel=1e-9)


def test_plausible_wrong_answers_differ_from_the_truth() -> None:
    """Every case separates the truth from the slips the checks name."""
    for case in T.TARGET_CASES:
        grads = T.target_grads(case)
        assert len({round(v, 6) for v in grads.values()}) == 3, grads
    assert T.hook_truth().tolist() != T.hook_unclipped().tolist()


def test_finite_difference_catches_a_wrong_autograd() -> None:
    class Bad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[override]
            return x**2

        @staticmethod
        def backward(ctx, grad):  # type: ignore[override]
            return grad * 3.0

    with pytest.raises(T.TruthError):
        T.jacobian_truth(lambda x: Bad.apply(x).sum(), torch.tensor([1.0, 2.0]))


# --- correct answers, in any tensor-like form -----------------------------------------------------
@pytest.mark.parametrize("form", [torch.tensor, np.array, lambda v: v,
                                  lambda v: torch.tensor(v, dtype=torch.float32)])
def test_correct_answers_in_any_form(form) -> None:
    for check, value in ((check_weight_grad, WEIGHT_GRAD), (check_jacobian, JACOBIAN)):
        verdict = check(form(value))
        assert verdict.ok and verdict.mistake is None, verdict
        assert repr(verdict).startswith("✓ Correct: ")


def test_correct_answers_rounded_to_four_places() -> None:
    rounded = [[round(v, 4) for v in row] for row in JACOBIAN]
    assert check_jacobian(rounded).ok


def clip_hook(grad: torch.Tensor) -> torch.Tensor:
    return grad.clamp(-1.0, 1.0)


def td_loss(w, x, x_next, r):
    target = (r + T.GAMMA * w * x_next).detach()
    return (w * x - target) ** 2


def test_teacher_solutions_pass() -> None:
    for verdict in (check_clip_hook(clip_hook), check_target_loss(td_loss),
                    check_clip_hook(lambda g: torch.clamp(g, min=-1, max=1))):
        assert verdict.ok and verdict.mistake is None, verdict


# --- every mistake, fed as a student would make it ----------------------------------------------
def _no_return(grad):
    grad = grad.clamp(-1.0, 1.0)  # noqa: F841 - the slip: computed, never returned


def _in_place(grad):
    grad.clamp_(-1.0, 1.0)


def _not_detached(w, x, x_next, r):
    return (w * x - (r + T.GAMMA * w * x_next)) ** 2


def _prediction_detached(w, x, x_next, r):
    return ((w * x).detach() - (r + T.GAMMA * w * x_next)) ** 2


def _all_detached(w, x, x_next, r):
    return ((w * x - (r + T.GAMMA * w * x_next)) ** 2).detach()


def _per_element(w, x, x_next, r):
    target = (r + T.GAMMA * w * x_next).detach()
    return torch.stack([(w * x - target) ** 2, (w * x - target) ** 2])


MISTAKE_CASES = [
    ("wrong_shape", check_weight_grad, torch.tensor(WEIGHT_GRAD).T),
    ("wrong_shape", check_weight_grad, [2 * (h - t) for h, t in zip(_h, T.WEIGHT_T, strict=True)]),
    ("wrong_shape", check_jacobian, torch.tensor(JACOBIAN).T),
    ("wrong_shape", check_clip_hook, lambda g: g.clamp(-1, 1).sum()),
    ("wrong_shape", check_target_loss, _per_element),
    ("missing_chain_factor", check_weight_grad, (torch.tensor(WEIGHT_GRAD) / 2).tolist()),
    ("sign_error", check_weight_grad, -torch.tensor(WEIGHT_GRAD)),
    ("sign_error", check_jacobian, -torch.tensor(JACOBIAN)),
    ("hook_not_returned", check_clip_hook, _no_return),
    ("hook_not_returned", check_clip_hook, _in_place),
    ("hook_not_returned", check_clip_hook, lambda g: None),
    ("detach_wrong_place", check_target_loss, _prediction_detached),
    ("detach_wrong_place", check_target_loss, _all_detached),
    ("not_detached", check_target_loss, _not_detached),
]


@pytest.mark.parametrize(("code", "check", "answer"), MISTAKE_CASES,
                         ids=[f"{c}-{f.__name__}" for c, f, _ in MISTAKE_CASES])
def test_each_mistake_is_named(code, check, answer) -> None:
    verdict = check(answer)
    assert isinstance(verdict, Verdict) and not verdict.ok
    assert verdict.mistake == code, verdict


def test_every_new_code_is_registered_and_fed() -> None:
    fed = {code for code, _, _ in MISTAKE_CASES}
    assert fed == TENSOR_CODES | {"missing_chain_factor", "sign_error"}
    assert TENSOR_CODES <= set(MISTAKES)


def test_first_hint_does_not_give_the_answer() -> None:
    """A wrong answer's message never prints the true entries."""
    for _code, check, answer in MISTAKE_CASES:
        text = check(answer).message
        if check is check_weight_grad:
            assert "-5.0000" not in text and "[[" not in text, text
        if check is check_jacobian:
            assert "0.0707" not in text, text


@pytest.mark.parametrize("check", [check_weight_grad, check_jacobian, check_clip_hook,
                                   check_target_loss])
def test_not_attempted(check) -> None:
    for blank in (..., None):
        verdict = check(blank)
        assert verdict.mistake == "not_attempted" and repr(verdict).startswith("○ ")


def _boom(*args):
    raise ZeroDivisionError("division by zero")


@pytest.mark.parametrize("answer", ["abc", object(), [[1, 2], [3]], [float("nan")] * 2,
                                    _boom, lambda *a: "x", lambda *a: ..., 3.0, True])
@pytest.mark.parametrize("check", [check_weight_grad, check_jacobian, check_clip_hook,
                                   check_target_loss])
def test_never_raises(check, answer) -> None:
    verdict = check(answer)
    assert isinstance(verdict, Verdict) and not verdict.ok
    assert verdict.mistake in (None, "wrong_shape", "not_attempted")


def test_far_wrong_answers_are_unrecognised() -> None:
    assert check_weight_grad(torch.ones(2, 3)).mistake is None
    assert check_jacobian(torch.ones(3, 2)).mistake is None
    assert check_clip_hook(lambda g: torch.ones_like(g)).mistake is None
    assert check_target_loss(lambda w, x, xn, r: (w * x - r) ** 2).mistake is None


@pytest.mark.kernels  # executes the release notebook in a kernel (make test, not make check)
@pytest.mark.notebooks
def test_student_wrong_answers_in_the_release_are_named() -> None:
    """As a student would: answer the release notebook wrongly, read each hint's code."""
    nbformat = pytest.importorskip("nbformat")
    from test_exercise_notebooks import _answer_with, release_nb, run, verdicts

    path = release_nb("tensors_and_hooks")
    nb = nbformat.read(path, as_version=4)
    _answer_with(nb, "grad_W", "grad_W = 2 * torch.outer(x, W @ x - t)  # transposed")
    _answer_with(nb, "J", "J = [[-2.0, 3.0, 0.0707], [1.5, -1.0, 0.0]]  # transposed")
    _answer_with(nb, "clip_hook", "def clip_hook(grad):\n    grad = grad.clamp(-1, 1)")
    _answer_with(nb, "td_loss", "def td_loss(w, x, x_next, r):\n"
                                "    return (w * x - (r + GAMMA * w * x_next)) ** 2")
    found = verdicts(run(nb, path.parent))
    codes = [v.rsplit("(", 1)[-1].rstrip(")") for v in found]
    assert codes == ["wrong_shape", "wrong_shape", "hook_not_returned", "not_detached"], found
    assert all(v.startswith("✗ Not quite") for v in found), found


# --- issue 28: a NumPy array where a tensor is needed gets the reason in one sentence ----------
def test_a_numpy_array_where_a_tensor_is_needed_says_why() -> None:
    hook = check_clip_hook(lambda g: np.clip(g.detach().numpy(), -1.0, 1.0))
    assert not hook.ok and "returns a ndarray" in hook.message
    assert "torch.as_tensor" in hook.message and "\n" not in hook.message

    def td_loss_numpy(w, x, x_next, r):
        return td_loss(w, x, x_next, r).detach().numpy()

    loss = check_target_loss(td_loss_numpy)
    assert not loss.ok and "no graph, so backward() cannot reach w" in loss.message
