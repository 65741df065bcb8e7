"""Training ``y_pred = w*x + b`` by manual gradient descent, exactly as lesson 08 writes it.

Each epoch::

    y_pred = w * x + b
    loss   = mean((y_pred - y)**2)
    dloss/dw = mean(2 * (y_pred - y) * x),   dloss/db = mean(2 * (y_pred - y))
    w <- w - lr * dloss/dw,                  b <- b - lr * dloss/db

Torch autograd computes the two gradients; the update runs under ``torch.no_grad()`` and the
gradients are zeroed afterwards (otherwise the next ``backward()`` would add to them).
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from autograd_lab.losses import mse

#: Divergence rule: the loss stayed above the first epoch's loss this many epochs in a row.
DIVERGENCE_PATIENCE = 3


@dataclass(frozen=True)
class EpochRecord:
    """One epoch: ``loss`` measured before the update, ``w`` and ``b`` after it (Python floats).

    ``str(record)`` is lesson 08's line, e.g. ``"Epoch 1: w=3.5000, b=1.2000, loss=41.0000"``.
    """

    epoch: int
    w: float
    b: float
    loss: float

    def __str__(self) -> str:
        return f"Epoch {self.epoch}: w={self.w:.4f}, b={self.b:.4f}, loss={self.loss:.4f}"


def is_diverging(losses: Sequence[float]) -> bool:
    """True when training is diverging: some loss is not finite, or the loss was above the
    first epoch's loss for ``DIVERGENCE_PATIENCE`` (3) epochs in a row.

    >>> is_diverging([41.0, 18.4, 8.3])
    False
    >>> is_diverging([41.0, 90.0, 200.0, 450.0])
    True
    """
    values = [float(loss) for loss in losses]
    if not all(math.isfinite(v) for v in values):
        return True
    if not values:
        return False
    run = 0
    for value in values[1:]:
        run = run + 1 if value > values[0] else 0
        if run >= DIVERGENCE_PATIENCE:
            return True
    return False


def _as_data(values: object, name: str) -> torch.Tensor:
    try:
        tensor = torch.as_tensor(values).detach().to(torch.float32)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(
            f"{name} must be a list or 1-D tensor of numbers, not {type(values).__name__}."
        ) from exc
    if tensor.dim() == 0:
        tensor = tensor.reshape(1)
    if tensor.dim() != 1:
        raise ValueError(f"{name} has shape {tuple(tensor.shape)}; give a flat list of numbers.")
    if tensor.numel() == 0:
        raise ValueError(f"{name} is empty; give at least one training example.")
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} contains inf or nan; remove or fix those examples.")
    return tensor


def _finite_number(value: object, name: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, not {type(value).__name__}.") from exc
    if not math.isfinite(number):
        raise ValueError(f"{name}={number} is not finite; give an ordinary number.")
    return number


def _whole_number(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name}={value!r} must be a whole number such as 10, not a bool.")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ValueError(f"{name}={value!r} must be a whole number such as 10.") from exc


def train_linear(
    x: Sequence[float] | torch.Tensor,
    y: Sequence[float] | torch.Tensor,
    lr: float = 0.1,
    epochs: int = 10,
    w: float = 0.0,
    b: float = 0.0,
    start_epoch: int = 1,
    on_epoch: Callable[[EpochRecord], bool | None] | None = None,
) -> list[EpochRecord]:
    """Fit ``y ≈ w*x + b`` with MSE and plain gradient descent in float32 (lesson 08's loop).

    Returns one :class:`EpochRecord` per epoch, numbered from ``start_epoch`` (so a widget
    can continue a run: pass the last record's ``w``, ``b`` and ``epoch + 1``). Lesson 08's
    data ``x=[1, 2, 3, 4]``, ``y=[3, 5, 7, 9]`` gives exactly lesson 08's ten printed lines
    (``str(record)``); some digits there are float32 artifacts at exact ties (epoch 3's loss
    8.27435 prints as 8.2744), so only this exact float32 path reproduces them.

    ``on_epoch(record)`` is called after every epoch; returning True stops the run.

    Divergence: when the loss is not finite, or stays above the first epoch's loss for
    3 epochs in a row (:func:`is_diverging`), one ``RuntimeWarning`` naming the learning rate
    is emitted; the run stops early once the loss is not finite.

    Raises ``ValueError`` for empty data, mismatched lengths, non-finite values, a
    non-positive learning rate or a negative number of epochs.
    """
    x_t = _as_data(x, "x")
    y_t = _as_data(y, "y")
    if x_t.numel() != y_t.numel():
        raise ValueError(
            f"x has {x_t.numel()} values but y has {y_t.numel()}; give one target per input."
        )
    lr = _finite_number(lr, "lr")
    if lr <= 0:
        raise ValueError(f"lr={lr} must be positive; try lr=0.1.")
    epochs = _whole_number(epochs, "epochs")
    if epochs < 0:
        raise ValueError(f"epochs={epochs} must be 0 or more.")
    start_epoch = _whole_number(start_epoch, "start_epoch")

    w_t = torch.tensor(_finite_number(w, "w"), dtype=torch.float32, requires_grad=True)  # weight
    b_t = torch.tensor(_finite_number(b, "b"), dtype=torch.float32, requires_grad=True)  # bias
    learning_rate = lr

    records: list[EpochRecord] = []
    losses: list[float] = []
    warned = False
    for epoch in range(start_epoch, start_epoch + epochs):
        # forward pass
        y_pred = w_t * x_t + b_t
        loss = mse(y_pred, y_t)

        # backward pass: dloss/dw and dloss/db land in w_t.grad and b_t.grad
        loss.backward()

        # manual SGD update, not tracked by autograd
        with torch.no_grad():
            w_t -= learning_rate * w_t.grad
            b_t -= learning_rate * b_t.grad

        # clear the gradients, or the next backward() adds to them
        w_t.grad.zero_()
        b_t.grad.zero_()

        record = EpochRecord(epoch=epoch, w=w_t.item(), b=b_t.item(), loss=loss.item())
        records.append(record)
        losses.append(record.loss)

        finite = math.isfinite(record.loss)
        if not warned and is_diverging(losses):
            warned = True
            reason = (
                f"the loss became {record.loss} at epoch {epoch}"
                if not finite
                else f"the loss stayed above the first epoch's loss ({losses[0]:.4g}) "
                f"for {DIVERGENCE_PATIENCE} epochs in a row"
            )
            warnings.warn(
                f"Training diverges with learning rate lr={lr:g}: {reason}; "
                f"try a smaller learning rate such as lr={lr / 10:g}.",
                RuntimeWarning,
                stacklevel=2,
            )
        if on_epoch is not None and on_epoch(record) is True:
            break
        if not finite:
            break
    return records
