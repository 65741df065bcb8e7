"""Lesson 03's exercise: name the nodes of torch's graph for ``y = exp(w·x) + b``.

``w`` and ``b`` require grad, ``x`` is data. The student gives the name of ``y.grad_fn`` and
the names in its ``next_functions`` (in order). The truth is read from torch itself, on a graph
the check builds. Named slips: a tensor's name (``b``, ``w``) where its ``AccumulateGrad`` node
is (``tensor_not_node``); the names in forward order, the first operation first, where
``next_functions`` lead from the output towards the leaves (``forward_order``).
"""

from __future__ import annotations

from typing import Any

import torch

from autograd_lab.verdict import Verdict, cannot_check, not_attempted_among, wrong

TENSOR_NAMES = {"x", "w", "b", "y", "none"}


def _name(fn: Any) -> str:
    return "None" if fn is None else type(fn).__name__


def graph_names() -> tuple[str, list[str]]:
    """(``y.grad_fn``'s name, the names in its ``next_functions``) from torch."""
    w = torch.tensor(0.5, requires_grad=True)
    b = torch.tensor(-1.0, requires_grad=True)
    x = torch.tensor(2.0)
    y = torch.exp(w * x) + b
    return _name(y.grad_fn), [_name(fn) for fn, _ in y.grad_fn.next_functions]


def _names(answer: Any) -> list[str]:
    items = [answer] if isinstance(answer, str) else list(answer)
    return [str(item).strip().strip("'\"") for item in items]


def check_graph_nodes(root: object, inputs: object) -> Verdict:
    """``root``: the name of ``y.grad_fn``; ``inputs``: the names in ``next_functions``."""
    try:
        blank = not_attempted_among({"root_node": root, "next_nodes": inputs})
        if blank is not None:
            return blank
        true_root, true_inputs = graph_names()
        given_root = _names(root)[0] if _names(root) else ""
        given_inputs = _names(inputs)
        every = [given_root, *given_inputs]
        if any(name.lower() in TENSOR_NAMES for name in every):
            return wrong("the graph's nodes are backward functions, not tensors: a leaf that "
                         "requires grad appears as its AccumulateGrad node", "tensor_not_node")
        if given_root == true_root and given_inputs == true_inputs:
            return Verdict(True, None, f"Correct: {true_root} <- {true_inputs}")
        if given_root == "MulBackward0" or given_inputs[:1] == ["MulBackward0"]:
            return wrong("y.grad_fn is the last operation, and next_functions lead from it "
                         "towards the leaves, not in the order the forward pass ran",
                         "forward_order")
        if given_root != true_root:
            return wrong("y.grad_fn is the backward function of the last operation that made y")
        return wrong("next_functions has one entry per input of that last operation, in the "
                     "order the inputs were given")
    except Exception as exc:  # noqa: BLE001 - a check must never show a traceback
        return cannot_check(exc)
