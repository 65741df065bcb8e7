"""The plain-Python state of BackwardTracer: torch's real backward pass, half a node at a time.

Each node receives ``grad_outputs`` (the upstream gradient ``dz/d(node output)``) and passes
``grad_inputs`` to its inputs: upstream × the node's local derivative, e.g. for ``v = sin(u)``
``dz/du = dz/dv · cos(u)``. The pass ends at ``AccumulateGrad``, which adds what it receives
into the leaf's ``.grad``. :class:`BackwardSteps` shows each node in two half-steps (what it
receives, then what it passes on), says what the next half-step reveals
(:meth:`BackwardSteps.pending`) and grows the hand derivation line by line beside it.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from autograd_lab.derivation import derive
from autograd_lab.formatting import fmt, fmt_tensor, fmt_tuple
from autograd_lab.graph import autograd_graph
from autograd_lab.trace import trace_backward
from autograd_lab.widgets.cursor import StepCursor, StepView

DTYPE = torch.float64


#: What the tracer shows at one position (kind "node", "accumulate" or "result").
TraceView = StepView


class BackwardSteps(StepCursor):
    """Position in ``trace_backward(output)``: two half-steps per node (position ``2k`` is
    what node ``k`` receives, ``2k + 1`` what it passes on); the last position lists every
    leaf's ``.grad``.

    ``leaves`` (name → leaf tensor) label the leaves; ``derivation`` (optional) is the hand
    derivation shown beside torch's pass.
    """

    def __init__(
        self,
        output: torch.Tensor,
        leaves: dict[str, torch.Tensor] | None = None,
        gradient: Any = None,
        derivation: Any = None,
        expression: str | None = None,
    ) -> None:
        self.output = output
        self.leaves = dict(leaves or {})
        self.gradient = gradient
        self.derivation = derivation
        self.expression = expression
        self.steps = trace_backward(output, gradient=gradient)
        self.graph = autograd_graph(output, names=self.leaves or None)
        self._labels = {n.id: n.label for n in self.graph.nodes}
        self.index = 0
        self._hand = _match_hand(self.steps, derivation, self.leaves)

    @classmethod
    def from_expression(
        cls, expression: str, values: dict[str, Any], gradient: Any = None
    ) -> BackwardSteps:
        """``derive(expression, **values)`` → float64 tensors → torch's backward pass."""
        if not expression.strip():
            raise ValueError("The expression box is empty; type an expression such as sin(x**2).")
        derivation = derive(expression, **values)
        output, leaves = derivation.to_torch(DTYPE)
        if not output.requires_grad:
            raise ValueError(
                f"{quoted_short(expression)} has no variable, so torch records no backward pass; "
                "type an expression with a variable, e.g. exp(sin(x**2))."
            )
        return cls(output, leaves, gradient, derivation, expression)

    # -- state ----------------------------------------------------------------------
    @property
    def total(self) -> int:
        return 2 * len(self.steps) + 1

    @property
    def node_index(self) -> int:
        """The trace step being visited (``len(steps)`` at the result)."""
        return self.index // 2

    @property
    def passed_on(self) -> bool:
        """True at a node's second half-step (its ``grad_inputs`` are shown)."""
        return self.index % 2 == 1

    # -- predict, then reveal ------------------------------------------------------------
    def pending(self) -> tuple[str, float] | None:
        """``(label, value)`` the next half-step reveals: at a node's first half-step its
        first ``grad_inputs`` entry (``ExpBackward0``: 1.5100…), at ``AccumulateGrad`` the
        leaf's ``.grad`` afterwards; None otherwise (or when the value is not one number).
        """
        if self.passed_on or self.node_index >= len(self.steps):
            return None
        step = self.steps[self.node_index]
        if step.node == "AccumulateGrad":
            name = self.leaf_name(step)
            grad = dict(self.leaf_grads()).get(name)
            return (f"{name}.grad afterwards", float(grad)) if _one_number(grad) else None
        for k, g in enumerate(step.grad_inputs):
            if g is not None:
                return (f"{step.node}'s grad_inputs[{k}]", float(g)) if _one_number(g) else None
        return None

    def slips(self) -> dict[str, float]:
        """What the common slips give for the node's first ``grad_inputs`` entry: passing
        the upstream gradient on unchanged (``missing_chain_factor``), or the local
        derivative alone (``missing_upstream_grad``); nothing at ``AccumulateGrad``."""
        target = self.pending()
        if target is None or self.steps[self.node_index].node == "AccumulateGrad":
            return {}
        upstream = self.steps[self.node_index].grad_outputs[0]
        if not _one_number(upstream) or float(upstream) == 0.0:
            return {}
        return {"missing_chain_factor": float(upstream),
                "missing_upstream_grad": target[1] / float(upstream)}

    def reveal(self) -> None:
        """Show the next half-step (what a right prediction, Show or Next does)."""
        self.next()

    # -- what to show ------------------------------------------------------------------
    def leaf_name(self, step: Any) -> str:
        for name, leaf in self.leaves.items():
            if leaf is step.leaf:
                return name
        return self._labels.get(step.node_id, "leaf")

    def leaf_grads(self) -> list[tuple[str, torch.Tensor]]:
        """``.grad`` each leaf holds after the pass: its old ``.grad`` plus what arrived."""
        out = []
        for step in self.steps:
            if step.node == "AccumulateGrad" and step.leaf is not None:
                incoming = step.grad_outputs[0] if step.grad_outputs else None
                before = step.leaf.grad
                if incoming is None:
                    grad = before
                else:
                    grad = incoming if before is None else before.detach() + incoming
                out.append((self.leaf_name(step), grad))
        return out

    def hand_lines(self) -> list[str]:
        """The hand derivation so far: the forward pass, then each backward line once torch's
        matching node has passed its gradient on (marked ◀ at the node being visited), then
        ``dz/dx`` once ``AccumulateGrad`` has filled ``x.grad``; everything at the result.
        """
        d = self.derivation
        if d is None:
            return []
        lines = [f"By hand: z = {self.expression}", "  forward:"]
        lines += [f"    {s.node} = {fmt(s.result)}" for s in d.steps if s.kind == "forward"]
        backward = [s for s in d.steps if s.kind == "backward"]
        at_end = self.node_index >= len(self.steps)
        current = self.node_index if self.passed_on else -1
        shown = []
        for i, step in enumerate(backward):
            node = self._hand["steps"].get(i)
            if at_end or (node is not None and 2 * node + 1 <= self.index):
                mark = "   ◀" if node == current else ""
                shown.append(f"    {step.formula}  →  {fmt(step.result)}{mark}")
        for name, g in d.gradient.items():
            node = self._hand["leaves"].get(name)
            if at_end or (node is not None and 2 * node + 1 <= self.index):
                mark = "   ◀" if node == current else ""
                shown.append(f"    dz/d{name} = {fmt(g)}{mark}")
        lines += ["  backward (dz/dz = 1):", *shown] if shown else [
            "  backward: each line appears here when torch's node passes its gradient on"]
        return lines

    def current_view(self) -> TraceView:
        i = self.node_index
        if i == len(self.steps):
            lines = [f"{name}.grad = {fmt_tensor(g)}" for name, g in self.leaf_grads()]
            if self.derivation is not None:
                manual = self.derivation.gradient
                for name, g in self.leaf_grads():
                    if name in manual and g is not None and g.numel() == 1:
                        same = math.isclose(float(g), float(manual[name]), rel_tol=1e-9,
                                            abs_tol=1e-12)
                        mark = "✓ equals" if same else "✗ differs from"
                        lines.append(f"{mark} the hand derivation dz/d{name} = "
                                     f"{fmt(manual[name])}")
            leaf_ids = tuple(s.node_id for s in self.steps if s.node == "AccumulateGrad")
            return TraceView("result", f"Result (step {self.index + 1} of {self.total})",
                             tuple(lines), leaf_ids)
        step = self.steps[i]
        half = "what it passes on" if self.passed_on else "what it receives"
        if step.node == "AccumulateGrad":
            half = "what it adds into .grad" if self.passed_on else half
        title = f"Step {self.index + 1} of {self.total}: {step.node}, {half}"
        if step.node == "AccumulateGrad":
            name = self.leaf_name(step)
            grad = dict(self.leaf_grads()).get(name)
            first = f"leaf {name} receives grad_outputs = {fmt_tuple(step.grad_outputs)}"
            if not self.passed_on:
                lines: tuple[str, ...] = (
                    first, f"AccumulateGrad adds it into {name}.grad: {name}.grad = ?")
            else:
                lines = (
                    first,
                    f"AccumulateGrad adds it into {name}.grad: {name}.grad = "
                    f"{fmt_tensor(grad)}",
                    "(it passes nothing on: grad_inputs = ())"
                    if not step.grad_inputs else f"grad_inputs = {fmt_tuple(step.grad_inputs)}",
                )
            return TraceView("accumulate", title, lines, (step.node_id,))
        passed = fmt_tuple(step.grad_inputs) if self.passed_on else "?"
        lines = (
            f"grad_outputs (in, upstream) = {fmt_tuple(step.grad_outputs)}",
            f"grad_inputs (out, upstream × local) = {passed}",
        )
        return TraceView("node", title, lines, (step.node_id,))


def _one_number(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.numel() == 1


def _match_hand(steps: list[Any], derivation: Any,
                leaves: dict[str, torch.Tensor]) -> dict[str, dict[Any, int]]:
    """Which trace step reveals which hand line: ``{"steps": {hand backward step: trace
    step}, "leaves": {leaf name: its AccumulateGrad step}}``.

    Torch visits the operation nodes in the hand derivation's backward order (both go from
    the output back through the ops in reverse order of creation); the match is kept only if
    every pair agrees on the upstream gradient (else the hand lines wait for the result).
    """
    empty: dict[str, dict[Any, int]] = {"steps": {}, "leaves": {}}
    if derivation is None:
        return empty
    backward = [s for s in derivation.steps if s.kind == "backward"]
    groups: list[list[int]] = []
    for i, s in enumerate(backward):
        if groups and backward[groups[-1][0]].node_id == s.node_id:
            groups[-1].append(i)
        else:
            groups.append([i])
    ops = [k for k, s in enumerate(steps) if s.node != "AccumulateGrad"]
    if len(ops) != len(groups):
        return empty
    out: dict[str, dict[Any, int]] = {"steps": {}, "leaves": {}}
    for k, group in zip(ops, groups, strict=True):
        received = steps[k].grad_outputs[0] if steps[k].grad_outputs else None
        upstream = backward[group[0]].upstream
        if not _one_number(received) or not math.isclose(
                float(received), float(upstream), rel_tol=1e-9, abs_tol=1e-12):
            return empty
        out["steps"].update({i: k for i in group})
    for k, s in enumerate(steps):
        for name, leaf in leaves.items():
            if s.node == "AccumulateGrad" and leaf is s.leaf:
                out["leaves"][name] = k
    return out


def quoted_short(text: str) -> str:
    """``text`` quoted, at most about 40 characters of it."""
    return repr(text if len(text) <= 40 else text[:37] + "...")

