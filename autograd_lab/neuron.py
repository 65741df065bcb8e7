"""One sigmoid neuron with binary cross-entropy, its gradients derived by hand (lesson 04's path).

Forward::

    z      = w * x + b
    y_pred = sigmoid(z) = 1 / (1 + exp(-z))
    L      = -(y * log(y_pred) + (1 - y) * log(1 - y_pred))

Backward, one factor per edge (chain rule ``dL/dw = dL/dy_pred * dy_pred/dz * dz/dw``)::

    dL/dy_pred  = (y_pred - y) / (y_pred * (1 - y_pred))
    dy_pred/dz  = y_pred * (1 - y_pred)          (the sigmoid's derivative)
    dz/dw = x,  dz/db = 1

The first two factors cancel: ``dL/dz = dL/dy_pred * dy_pred/dz = y_pred - y``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from autograd_lab.losses import apply_reduction, binary_cross_entropy, check_reduction
from autograd_lab.tensor_input import as_dtype, refuse_meta_or_complex

Number = float | int
TensorLike = torch.Tensor | Number | Sequence[Number]


@dataclass(frozen=True, eq=False)  # fields are tensors: compare them with torch
class NeuronGradients:
    """Every intermediate of :func:`neuron_gradients` as a tensor.

    Per sample (same shape as ``x``): ``z``, ``y_pred``, ``dloss_dy_pred``, ``dy_pred_dz``,
    ``dz_dw`` (= x), ``dz_db`` (ones like x). Reduced: ``loss``, ``dL_dw``, ``dL_db``.
    """

    z: torch.Tensor
    y_pred: torch.Tensor
    dloss_dy_pred: torch.Tensor
    dy_pred_dz: torch.Tensor
    dz_dw: torch.Tensor
    dz_db: torch.Tensor
    loss: torch.Tensor
    dL_dw: torch.Tensor
    dL_db: torch.Tensor


def _as_float_tensor(value: TensorLike, name: str, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(value, torch.Tensor | complex):
        refuse_meta_or_complex(torch.as_tensor(value), name)
    if isinstance(value, torch.Tensor) and not (
        torch.is_floating_point(value) or name == "y"
    ):
        raise TypeError(
            f"{name} is an integer tensor ({value.dtype}); create it with floats, "
            f"e.g. torch.tensor(6.7) rather than torch.tensor(6), or call {name}.float()."
        )
    try:
        tensor = as_dtype(value, dtype)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(
            f"{name} must be a number, a list of numbers or a tensor, not {type(value).__name__}."
        ) from exc
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} contains inf or nan; give finite numbers.")
    return tensor


def neuron_gradients(
    x: TensorLike,
    y: TensorLike,
    w: float | torch.Tensor = 1.0,
    b: float | torch.Tensor = 0.0,
    reduction: str = "sum",
    dtype: torch.dtype = torch.float32,
) -> NeuronGradients:
    """Gradients of one sigmoid neuron's BCE loss by the chain rule, exactly as lesson 04 does.

    For each sample, with ``z = w*x + b`` and ``y_pred = sigmoid(z)``::

        dL/dw = dL/dy_pred * dy_pred/dz * dz/dw
              = (y_pred - y)/(y_pred*(1 - y_pred)) * y_pred*(1 - y_pred) * x
        dL/db = (y_pred - y)/(y_pred*(1 - y_pred)) * y_pred*(1 - y_pred) * 1

    Why ``dL/dz`` simplifies to ``y_pred - y``: ``dL/dy_pred = -y/y_pred + (1-y)/(1-y_pred)
    = (y_pred - y)/(y_pred*(1 - y_pred))`` and the sigmoid's derivative is
    ``dy_pred/dz = y_pred*(1 - y_pred)``; multiplied, the denominators cancel. The factors
    are still computed separately (as in lesson 04) so every intermediate can be shown, and
    so the float32 digits are lesson 04's: x=6.7, y=0 gives ``f"{g.dL_dw}"`` ==
    ``6.691762447357178`` (torch autograd gives 6.6917619705200195 — the last float32 bit
    differs because autograd multiplies the factors in another order).

    Where float rounds ``y_pred`` to exactly 1 or 0 (float32: ``z`` above about 16.6, e.g.
    x=6.7, w=2.5) the two factors are ``inf`` and ``0``; the gradients then use the product
    they simplify to, ``y_pred - y`` (computed without cancellation), so they stay finite
    and within 1e-3 of float64 for every finite input.

    ``reduction`` ("sum", lesson 04's choice for vectors; "mean"; or "none") combines the
    per-sample gradients and losses; a single 0-d sample is returned as it is. The loss is
    :func:`autograd_lab.binary_cross_entropy` with the same reduction.

    Raises ``TypeError`` for a non-float ``dtype``, complex values or integer
    ``x``/``w``/``b`` tensors (the label ``y`` may be an integer), ``ValueError`` for meta
    tensors, non-finite values, mismatched shapes or non-scalar ``w``/``b``.
    """
    check_reduction(reduction)
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype={dtype!r} is not a float dtype; use torch.float32 or float64.")
    x_t = _as_float_tensor(x, "x", dtype)
    y_t = _as_float_tensor(y, "y", dtype)
    w_t = _as_float_tensor(w, "w", dtype)
    b_t = _as_float_tensor(b, "b", dtype)
    if x_t.dim() > 1:
        raise ValueError(f"x has shape {tuple(x_t.shape)}; give a number or a 1-D list of inputs.")
    if y_t.shape != x_t.shape:
        raise ValueError(
            f"x has shape {tuple(x_t.shape)} but y has shape {tuple(y_t.shape)}; "
            "give one label per input."
        )
    for name, param in (("w", w_t), ("b", b_t)):
        if param.numel() != 1:
            raise ValueError(f"{name} must be a single number (one neuron), got shape "
                             f"{tuple(param.shape)}.")
    w_t, b_t = w_t.reshape(()), b_t.reshape(())

    # forward pass
    z = w_t * x_t + b_t
    y_pred = torch.sigmoid(z)
    loss = binary_cross_entropy(y_pred, y_t, reduction=reduction)

    # backward pass, one local derivative per edge
    dloss_dy_pred = (y_pred - y_t) / (y_pred * (1 - y_pred))  # dL/dy_pred
    dy_pred_dz = y_pred * (1 - y_pred)  # sigmoid'(z)
    dz_dw = x_t  # dz/dw = x
    dz_db = torch.ones_like(x_t)  # dz/db = 1
    dL_dz = dloss_dy_pred * dy_pred_dz
    # Where y_pred rounded to exactly 1 or 0 (float32: z above about 16.6 or below about
    # -88) the factors are inf and 0 and their product nan: there use what the product
    # simplifies to, y_pred - y, written y_pred*(1 - y) - y*sigmoid(-z) (no 1 - 1 cancelling)
    dL_dz = torch.where(torch.isfinite(dL_dz), dL_dz,
                        y_pred * (1 - y_t) - y_t * torch.sigmoid(-z))
    dL_dw = apply_reduction(dL_dz * dz_dw, reduction)
    dL_db = apply_reduction(dL_dz * dz_db, reduction)
    return NeuronGradients(
        z=z,
        y_pred=y_pred,
        dloss_dy_pred=dloss_dy_pred,
        dy_pred_dz=dy_pred_dz,
        dz_dw=dz_dw,
        dz_db=dz_db,
        loss=loss,
        dL_dw=dL_dw,
        dL_db=dL_db,
    )
