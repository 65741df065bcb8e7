"""Watch torch's real backward pass, node by node.

``output.backward()`` starts at ``output.grad_fn`` with ``dout/dout = 1`` (or ``gradient``)
and visits every node once, in dependency order. A node receives ``grad_outputs`` (the
gradient of the output with respect to what the node produced — the *upstream* gradient)
and hands ``grad_inputs`` to its inputs: upstream times the node's local derivative, e.g.
for ``y = sin(u)``: ``dout/du = dout/dy · cos(u)``. An ``AccumulateGrad`` node adds what it
receives into its leaf's ``.grad``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from autograd_lab.graph import _walk


@dataclass(frozen=True, eq=False)  # fields are tensors: compare them with torch
class BackwardStep:
    """One autograd node as the backward pass ran it.

    ``node`` is ``type(grad_fn).__name__`` ("SinBackward0", "AccumulateGrad"); ``node_id``
    is its id in :func:`autograd_lab.autograd_graph` of the same output; ``grad_outputs``
    is what the node received, ``grad_inputs`` what it passed on (tuples of tensors, entries
    may be None; ``AccumulateGrad`` passes nothing on: ``()``); ``leaf`` is the leaf tensor
    for ``AccumulateGrad`` and None otherwise.
    """

    node: str
    node_id: int
    grad_outputs: tuple[torch.Tensor | None, ...]
    grad_inputs: tuple[torch.Tensor | None, ...]
    leaf: torch.Tensor | None = None

    def __str__(self) -> str:
        """One line, e.g. ``SinBackward0 [node 2]: received (1.5100,) -> passed on (-1.3758,)``."""
        received = _short(self.grad_outputs)
        if self.node == "AccumulateGrad":
            return f"AccumulateGrad [node {self.node_id}]: adds {received} into the leaf's .grad"
        return f"{self.node} [node {self.node_id}]: received {received} -> passed on " + _short(
            self.grad_inputs
        )


def _short(grads: tuple[torch.Tensor | None, ...]) -> str:
    parts = []
    for g in grads:
        if g is None:
            parts.append("None")
        elif g.numel() == 1:
            parts.append(f"{g.item():.4f}")
        else:
            values = ", ".join(f"{v:.4f}" for v in g.reshape(-1)[:4].tolist())
            parts.append(f"[{values}{', …' if g.numel() > 4 else ''}]")
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _copy(grads: Any) -> tuple[torch.Tensor | None, ...]:
    # backward may later add into these very tensors in place (a leaf's .grad), so clone
    return tuple(None if g is None else g.detach().clone() for g in grads)


def trace_backward(
    output: torch.Tensor,
    gradient: Any = None,
    retain_graph: bool = True,
) -> list[BackwardStep]:
    """Run ``output.backward(gradient)`` — torch's real backward pass — and record each node.

    Steps come in execution order, one per node run (``torch.autograd.grad`` would skip the
    ``AccumulateGrad`` nodes, so the real ``.backward()`` is used). Hooks are registered on
    every node of the graph and all removed afterwards, even on error. The leaves' ``.grad``
    is left exactly as it was: backward accumulates into the same tensor object in place,
    so a copy is kept and written back (a leaf with no ``.grad`` gets None again).

    ``gradient`` is required for a non-scalar output (``dout/dout``, same shape, e.g.
    ``torch.ones_like(output)``); it may be a number, a list or a tensor. With
    ``retain_graph=True`` (the default) the graph survives, so the trace can be repeated.

    Example: ``exp(sin(x**2))`` at x=3 visits ExpBackward0, SinBackward0, PowBackward0,
    AccumulateGrad; their grad_inputs are 1.5100, -1.3758, -8.2549 and AccumulateGrad
    receives -8.2549 = d/dx exp(sin(x²)) = exp(sin 9) · cos 9 · 2·3.
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(
            f"trace_backward needs a tensor, got {type(output).__name__}; pass the result of "
            "a torch computation such as torch.sin(x**2)."
        )
    if not output.requires_grad:
        raise ValueError(
            "output does not require grad, so there is no backward pass to trace; create its "
            "inputs with requires_grad=True (e.g. torch.tensor(3.0, requires_grad=True))."
        )
    if gradient is None:
        if output.numel() != 1:
            raise ValueError(
                f"output has {output.numel()} values, so backward needs gradient= (dout/dout) "
                "of the same shape; pass e.g. gradient=torch.ones_like(output)."
            )
    else:
        gradient = torch.as_tensor(gradient, dtype=output.dtype, device=output.device)
        if gradient.shape != output.shape:
            raise ValueError(
                f"gradient has shape {tuple(gradient.shape)} but output has shape "
                f"{tuple(output.shape)}; give one gradient value per output value."
            )

    walk = _walk(output)
    steps: list[BackwardStep] = []
    handles: list[Any] = []
    stashed: list[tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]] = []
    for fn in walk.fns:
        leaf = getattr(fn, "variable", None)
        if leaf is not None:
            grad = leaf.grad
            stashed.append((leaf, grad, None if grad is None else grad.detach().clone()))

    def make_hook(fn: Any, node_id: int) -> Any:
        name = type(fn).__name__
        leaf = getattr(fn, "variable", None)

        def hook(grad_inputs: tuple[Any, ...], grad_outputs: tuple[Any, ...]) -> None:
            steps.append(
                BackwardStep(
                    node=name,
                    node_id=node_id,
                    grad_outputs=_copy(grad_outputs),
                    grad_inputs=_copy(grad_inputs),
                    leaf=leaf,
                )
            )

        return hook

    try:
        for node_id, fn in enumerate(walk.fns):
            handles.append(fn.register_hook(make_hook(fn, node_id)))
        try:
            output.backward(gradient, retain_graph=retain_graph)
        except RuntimeError as exc:
            if "second time" not in str(exc):
                raise
            raise RuntimeError(
                "this graph was already freed by an earlier backward(); recompute the output "
                "(or call backward(retain_graph=True)) before tracing it."
            ) from exc
    finally:
        for handle in handles:
            handle.remove()
        with torch.no_grad():
            for leaf, grad, saved in stashed:
                if grad is None or saved is None:
                    leaf.grad = None
                else:
                    grad.copy_(saved)  # the very same tensor object, its old values
                    leaf.grad = grad
    return steps
