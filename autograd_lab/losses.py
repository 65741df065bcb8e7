"""Loss functions written the way the lessons write them, so every printed digit matches.

Binary cross-entropy for one prediction ``p`` (a probability) and its label ``t`` (0 or 1)::

    L(p, t) = -(t * log(p) + (1 - t) * log(1 - p))
    dL/dp   = -t/p + (1 - t)/(1 - p) = (p - t) / (p * (1 - p))

Mean squared error over n samples::

    MSE = (1/n) * sum_i (y_pred_i - y_i)**2
    dMSE/dy_pred_i = (2/n) * (y_pred_i - y_i)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from autograd_lab.tensor_input import refuse_meta_or_complex

Number = float | int
TensorLike = torch.Tensor | Number | Sequence[Number]

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction={reduction!r} is not supported; use one of 'mean', 'sum' or 'none'."
        )


def apply_reduction(values: torch.Tensor, reduction: str) -> torch.Tensor:
    """Apply ``reduction``; a 0-d tensor is returned untouched (its mean and sum are itself)."""
    if values.dim() == 0 or reduction == "none":
        return values
    if reduction == "sum":
        return torch.sum(values)
    return values.mean()


def _as_prediction(prediction: TensorLike) -> torch.Tensor:
    if isinstance(prediction, torch.Tensor):
        p = prediction
    else:
        try:
            p = torch.as_tensor(prediction)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(
                f"prediction must be a float, a list of floats or a tensor, not "
                f"{type(prediction).__name__}; pass e.g. 0.9 or [0.9, 0.2]."
            ) from exc
    refuse_meta_or_complex(p, "prediction")
    if not torch.is_floating_point(p):
        raise TypeError(
            f"prediction has integer dtype {p.dtype}, but a probability must be a float; "
            "write 1.0 instead of 1, or convert a tensor with prediction.float()."
        )
    if p.numel() == 0:
        raise ValueError(
            "prediction is empty, so there is no loss to compute; give at least one "
            "prediction and its target, e.g. binary_cross_entropy([0.9], [1.0])."
        )
    values = p.detach()
    if torch.isnan(values).any():
        raise ValueError(
            "prediction contains nan, which is not a probability; find where the nan came "
            "from (0/0, the log of a negative number, a training run that diverged)."
        )
    outside = values[(values < 0) | (values > 1)]
    if outside.numel():
        raise ValueError(
            f"prediction {outside[0].item():.4g} is not a probability between 0 and 1 (torch "
            "refuses it too); forgot the sigmoid? pass torch.sigmoid(z), or give the raw "
            "scores to torch.nn.BCEWithLogitsLoss."
        )
    return p


def _as_target(target: TensorLike, p: torch.Tensor) -> torch.Tensor:
    if isinstance(target, int | float) and not isinstance(target, bool):
        return torch.full_like(p, float(target), requires_grad=False)
    problem = f"target {str(target)[:20]!r} is a {type(target).__name__}; give labels as numbers"
    if target is None or isinstance(target, str | bytes):
        raise TypeError(f"{problem}, such as 1.0 or [1.0, 0.0], or as a tensor.")
    try:
        t = torch.as_tensor(target)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"{problem}, such as 1.0 or [1.0, 0.0], or as a tensor.") from exc
    refuse_meta_or_complex(t, "target")
    t = t.to(p.dtype)
    if t.shape != p.shape:
        raise ValueError(
            f"prediction has shape {tuple(p.shape)} but target has shape {tuple(t.shape)}; "
            "give exactly one target per prediction."
        )
    return t


def clamp_bounds(dtype: torch.dtype, epsilon: float = 1e-8) -> tuple[float, float]:
    """The interval ``[low, high]`` that :func:`binary_cross_entropy` clamps predictions into.

    ``low = max(epsilon, smallest normal number of dtype)`` and
    ``high = min(1 - epsilon, largest number below 1 in dtype)``. In float32 the largest
    number below 1 is ``1 - 2**-24 = 0.99999994``, whereas ``1 - 1e-8`` rounds up to exactly
    1.0 — which is why the usual ``clamp(p, 1e-8, 1 - 1e-8)`` does nothing at the top.
    """
    info = torch.finfo(dtype)
    below_one = 1.0 - info.eps / 2.0  # the float just below 1 (spacing below 1 is eps/2)
    return max(epsilon, info.tiny), min(1.0 - epsilon, below_one)


def binary_cross_entropy(
    prediction: TensorLike,
    target: TensorLike,
    epsilon: float = 1e-8,
    reduction: str = "mean",
) -> torch.Tensor:
    """Clamped binary cross-entropy, written exactly as in lesson 04::

        p = clamp(prediction, epsilon, 1 - epsilon)
        L = -(target * log(p) + (1 - target) * log(1 - p))

    ``prediction`` and ``target`` may be floats, lists or tensors (one target per prediction).
    The result is a tensor: the per-sample losses for ``reduction="none"``, their sum for
    ``"sum"`` and their mean for ``"mean"`` (a single 0-d prediction is returned as it is,
    so ``loss.grad_fn`` is ``NegBackward0`` just like lesson 04's). Gradients flow back into
    ``prediction`` when it requires grad.

    **The float32 trap.** In float32, ``1 - 1e-8`` rounds to exactly ``1.0``, so the usual
    ``torch.clamp(p, 1e-8, 1 - 1e-8)`` leaves a perfect prediction ``p = 1.0`` untouched
    and ``log(1 - p) = log(0) = -inf``: the loss is ``inf`` (target 0) or ``0 * -inf = nan``
    (target 1). This function instead clamps the top to ``min(1 - epsilon, the largest
    number below 1 in the prediction's dtype)`` — ``0.99999994`` in float32 — so it stays
    finite for predictions of exactly 0 and 1 (as ``torch.nn.functional.binary_cross_entropy``
    does; torch instead caps each log at -100, so the two differ only at the clamp). Away
    from the clamp nothing changes and every figure of lesson 04 is reproduced bit for bit
    (x=6.7, y=0, w=1, b=0 gives ``tensor(6.7012)``).

    Raises ``TypeError`` for integer, complex or meta predictions and for targets that are
    not numbers (None, "1"), and ``ValueError`` for an unknown reduction, mismatched
    shapes, a bad ``epsilon``, no predictions at all, or a prediction outside [0, 1] —
    like torch, since a raw score there usually means the sigmoid was forgotten.
    """
    check_reduction(reduction)
    if not 0.0 <= epsilon < 0.5:
        raise ValueError(f"epsilon={epsilon!r} must be in [0, 0.5); the usual choice is 1e-8.")
    p = _as_prediction(prediction)
    t = _as_target(target, p)
    low, high = clamp_bounds(p.dtype, epsilon)
    p = torch.clamp(p, low, high)
    losses = -(t * torch.log(p) + (1 - t) * torch.log(1 - p))
    return apply_reduction(losses, reduction)


def mse(y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    """Mean squared error, lesson 08's ``((y_pred - y_true)**2).mean()`` (same float32 digits).

    ``dMSE/dy_pred_i = (2/n) * (y_pred_i - y_true_i)``.
    """
    return ((y_pred - y_true) ** 2).mean()
