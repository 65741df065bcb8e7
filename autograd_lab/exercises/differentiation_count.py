"""How many times a student's code asked autograd to differentiate with respect to a leaf.

Some exercises ask for a gradient *computed by autograd* (``torch.autograd.grad``), not a
formula typed by hand, and a Hessian-vector product *without building the Hessian*. The value
alone cannot tell these apart, so a check runs the student's function inside
:class:`DifferentiationCount`, a ``torch.overrides.TorchFunctionMode`` (torch's public door
for watching torch calls) that counts every ``torch.autograd.grad(outputs, inputs)`` whose
``inputs`` are the check's leaf or tensors computed from it, and every ``backward()`` of an
output computed from it.

``torch.autograd.functional.hessian`` / ``hvp`` and ``torch.func`` transforms differentiate
detached copies of the input, so they count 0, as does a formula by hand; two nested
``torch.autograd.grad`` calls at the leaf count 2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

__all__ = ["DifferentiationCount", "depends_on"]


def depends_on(tensor: object, leaf: torch.Tensor) -> bool:
    """True if ``tensor`` is ``leaf`` or its recorded graph reaches ``leaf``'s AccumulateGrad
    node (walked with ``grad_fn`` / ``next_functions``, an explicit stack)."""
    if tensor is leaf:
        return True
    start = getattr(tensor, "grad_fn", None)
    stack, seen = ([start] if start is not None else []), set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if getattr(node, "variable", None) is leaf:  # an AccumulateGrad node's leaf
            return True
        stack.extend(fn for fn, _ in node.next_functions)
    return False


def _as_tensors(value: Any) -> Iterable[Any]:
    return (value,) if isinstance(value, torch.Tensor) else tuple(value or ())


class DifferentiationCount(TorchFunctionMode):
    """``with DifferentiationCount(leaf) as count: ...``; then ``count.at_leaf`` is how many
    differentiations with respect to ``leaf`` the block made (``torch.autograd.grad`` or
    ``backward()``)."""

    def __init__(self, leaf: torch.Tensor) -> None:
        super().__init__()
        self.leaf = leaf
        self.at_leaf = 0

    def __torch_function__(
        self, func: Callable[..., Any], types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        kwargs = kwargs or {}
        if func is torch.autograd.grad:
            inputs = kwargs.get("inputs", args[1] if len(args) > 1 else ())
            if any(depends_on(t, self.leaf) for t in _as_tensors(inputs)):
                self.at_leaf += 1
        elif func is torch.Tensor.backward and args and depends_on(args[0], self.leaf):
            self.at_leaf += 1
        return func(*args, **kwargs)
