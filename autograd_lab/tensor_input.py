"""Tensors the kit cannot compute with or show, refused in one sentence.

A *meta* tensor has a shape and a dtype but no values (``torch.empty(3, device="meta")``),
so there is no number to print or check; a *complex* tensor's gradient follows Wirtinger
calculus (``dL/dz*``), which the lessons do not teach. Both would otherwise surface as
library errors deep inside torch ("Tensor.item() cannot be called on meta tensors").
:func:`as_dtype` is the one way the kit turns a number, list or tensor into a given dtype.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["as_dtype", "refuse_meta_or_complex"]


def refuse_meta_or_complex(tensor: torch.Tensor, name: str) -> None:
    """Raise ``ValueError`` for a meta tensor and ``TypeError`` for a complex one.

    ``name`` says which argument it was ("prediction", "a leaf of this graph").
    """
    if tensor.is_meta:
        raise ValueError(
            f"{name} is a meta tensor (a shape without values), so there is nothing to "
            "compute or show; create it with values on the CPU, e.g. torch.tensor(2.0)."
        )
    if tensor.is_complex():
        raise TypeError(
            f"{name} is complex ({tensor.dtype}), but the kit works with real numbers; use a "
            "float tensor such as torch.tensor(2.0), or take .real or .abs() first."
        )


def as_dtype(value: Any, dtype: torch.dtype) -> torch.Tensor:
    """``value`` as a tensor of ``dtype``, cut from any graph; raises what torch raises.

    A tensor is detached and cast; anything else goes straight to ``dtype``: 0.4 must not pass
    through float32 on its way to float64.
    """
    if isinstance(value, torch.Tensor):
        return value.detach().to(dtype)
    return torch.as_tensor(value, dtype=dtype)
