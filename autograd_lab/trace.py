"""Watch torch's real backward pass, node by node.

``output.backward()`` starts at ``output.grad_fn`` with ``dout/dout = 1`` (or ``gradient``)
and visits every node once, in dependency order. A node receives ``grad_outputs`` (the
gradient of the output with respect to what the node produced — the *upstream* gradient)
and hands ``grad_inputs`` to its inputs: upstream times the node's local derivative, e.g.
for ``y = sin(u)``: ``dout/du = dout/dy · cos(u)``. An ``AccumulateGrad`` node adds what it
receives into its leaf's ``.grad``.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any

import torch

from autograd_lab.graph import walk_torch_graph
from autograd_lab.tensor_input import refuse_meta_or_complex


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


def _retained_non_leaves(fns: list[Any]) -> list[torch.Tensor]:
    """The live tensors whose ``grad_fn`` is one of ``fns`` and that called ``retain_grad()``.

    ``retain_grad()`` hangs a hook on the tensor's ``grad_fn`` that holds only a weak
    reference to the tensor, and torch lists such tensors nowhere, so the garbage
    collector's list of live objects is searched (a tensor the user dropped but a node
    saved is still there; one nobody holds is freed, and its hook then does nothing).
    """
    nodes = {id(fn) for fn in fns}
    is_tensor_type: dict[type, bool] = {}
    found = []
    for obj in gc.get_objects():
        kind = type(obj)
        flag = is_tensor_type.get(kind)
        if flag is None:
            flag = is_tensor_type[kind] = issubclass(kind, torch.Tensor)
        if flag and obj.retains_grad and id(obj.grad_fn) in nodes:
            found.append(obj)
    return found


def trace_backward(
    output: torch.Tensor,
    gradient: Any = None,
    retain_graph: bool = True,
) -> list[BackwardStep]:
    """Run ``output.backward(gradient)`` — torch's real backward pass — and record each node.

    Steps come in execution order, one per node run (``torch.autograd.grad`` would skip the
    ``AccumulateGrad`` nodes, so the real ``.backward()`` is used). Hooks are registered on
    every node of the graph and all removed afterwards, even on error. Every ``.grad`` is
    left exactly as it was — the leaves', and those of non-leaves that called
    ``retain_grad()``: backward accumulates into a leaf's ``.grad`` in place and replaces
    a retained non-leaf's, so each old ``.grad`` object and a copy of its values are kept
    and put back (a tensor that had no ``.grad`` gets None again).

    ``gradient`` is required for a non-scalar output (``dout/dout``, same shape, e.g.
    ``torch.ones_like(output)``); it may be a number, a list or a tensor. With
    ``retain_graph=True`` (the default) the graph survives, so the trace can be repeated.
    A graph with more than :data:`autograd_lab.graph.NODE_CAP` nodes raises
    ``GraphTooLarge`` before anything runs.

    Example: ``exp(sin(x**2))`` at x=3 visits ExpBackward0, SinBackward0, PowBackward0,
    AccumulateGrad; their grad_inputs are 1.5100, -1.3758, -8.2549 and AccumulateGrad
    receives -8.2549 = d/dx exp(sin(x²)) = exp(sin 9) · cos 9 · 2·3.
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(
            f"trace_backward needs a tensor, got {type(output).__name__}; pass the result of "
            "a torch computation such as torch.sin(x**2)."
        )
    refuse_meta_or_complex(output, "output")
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

    walk = walk_torch_graph(output)
    steps: list[BackwardStep] = []
    handles: list[Any] = []
    leaves = [fn.variable for fn in walk.fns if hasattr(fn, "variable")]
    stashed = [
        (tensor, tensor.grad, None if tensor.grad is None else tensor.grad.detach().clone())
        for tensor in [*leaves, *_retained_non_leaves(walk.fns)]
    ]

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
            for tensor, grad, saved in stashed:
                if grad is None or saved is None:
                    tensor.grad = None
                else:
                    grad.copy_(saved)  # the very same tensor object, its old values
                    tensor.grad = grad
    return steps
