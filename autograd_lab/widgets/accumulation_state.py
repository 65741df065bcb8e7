"""The plain-Python state of GradAccumulationLab: one persistent ``x``, one backward call at a time.

``backward()`` does ``x.grad += dy/dx`` — it *accumulates*. Five calls on ``y = x**3`` at
``x = 2`` leave 12, 24, 36, 48, 60 in ``x.grad`` (lesson 06's loop); ``x.grad.zero_()`` or
``x.grad = None`` between calls gives 12 each time. And backward frees the graph's saved
tensors, so a second backward through the *same* graph needs ``retain_graph=True`` —
otherwise torch raises "Trying to backward through the graph a second time".

Real torch, float32 like lesson 06 (so values print 12.0 …). The typed expression is parsed
by :func:`autograd_lab.derive` (an ``ast`` whitelist) and built on one persistent leaf ``x``
with :meth:`Derivation.to_torch`; nothing typed is ever evaluated as Python.

:meth:`AccumulationRun.next_call` makes ONE backward call on the persistent ``x`` (what the
widget reveals step by step); :meth:`AccumulationRun.run` replays the whole loop on a fresh
``x`` (the reference a prediction is checked against: :meth:`AccumulationRun.pending`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from autograd_lab.derivation import derive
from autograd_lab.errors import DerivationError
from autograd_lab.expression import names_in, parse_expression
from autograd_lab.formatting import fmt_short
from autograd_lab.widgets.base import one_line

MAX_CALLS = 10
MODES = ("nothing", "grad.zero_()", "grad = None")
DTYPE = torch.float32

#: Longest variable name shown in a plot label, a table header or a prompt (then "…").
LABEL_CHARS = 12


def short_name(name: str, limit: int = LABEL_CHARS) -> str:
    """``name`` cut to ``limit`` characters with "…" (labels stay small, drawing stays fast)."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def torch_forward(expression: str) -> tuple[str, Callable[[torch.Tensor], torch.Tensor]]:
    """``(variable name, f)`` where ``f(x)`` builds ``expression`` on the tensor ``x`` in torch.

    The torch graph comes from :meth:`Derivation.to_torch` with ``x`` passed in as the leaf,
    so every forward pass feeds the same ``x.grad``. Raises ``ExpressionError`` for text
    outside the grammar and ``ValueError`` unless the expression has exactly one variable.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError("The expression box is empty; type a function of x such as x**3.")
    names = names_in(parse_expression(expression))
    if len(names) != 1:
        found = ", ".join(short_name(n) for n in names[:4]) if names else "none"
        raise ValueError(
            f"This lab needs a function of one variable (found: {found}); try e.g. x**3."
        )
    (name,) = names

    def f(x: torch.Tensor) -> torch.Tensor:
        derivation = derive(expression, **{name: float(x.detach())})
        return derivation.to_torch(DTYPE, leaves={name: x})[0]

    return name, f


@dataclass
class AccumulationResult:
    """Backward calls so far: ``.grad`` right after each call, what happened next, any error."""

    variable: str
    grads: list[float | None] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    error: str = ""
    failed_call: int | None = None


class AccumulationRun:
    """Settings of the lab, the persistent leaf ``x`` and the calls made on it so far.

    ``calls`` backward calls on ``expression`` at ``x``; ``mode`` is what happens after each
    call ("nothing", "grad.zero_()", "grad = None"); ``fresh_forward`` rebuilds ``y`` before
    every call (a new graph each time) instead of re-using one graph, which only works with
    ``retain_graph=True``. Every setter starts again from a fresh ``x`` with no calls made.
    """

    def __init__(
        self,
        expression: str = "x**3",
        x: float = 2.0,
        calls: int = 5,
        mode: str = "nothing",
        fresh_forward: bool = True,
        retain_graph: bool = False,
    ) -> None:
        self.expression = ""
        self.x = float(x)
        self.calls = int(calls)
        self.mode = mode
        self.fresh_forward = bool(fresh_forward)
        self.retain_graph = bool(retain_graph)
        self._forward: Callable[[torch.Tensor], torch.Tensor] | None = None
        self._reference: AccumulationResult | None = None
        self.variable = "x"
        self.set_expression(expression)
        self.set_mode(mode)

    # -- settings (each starts again) ----------------------------------------------------
    def set_expression(self, expression: str) -> None:
        """Parse a new expression (raises on bad input, leaving the old one in place)."""
        name, forward = torch_forward(expression)
        try:  # a value that does not exist at x is refused now, the old expression kept
            forward(torch.tensor(self.x, dtype=DTYPE))
        except DerivationError as exc:  # derive names the output z; this lab calls it y
            raise DerivationError(str(exc).replace("z = ", "y = ", 1)) from None
        self.expression, self.variable, self._forward = expression.strip(), name, forward
        self.reset()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"Unknown mode {str(mode)[:30]!r}; choose one of {', '.join(MODES)}.")
        self.mode = mode
        self.reset()

    def configure(self, calls: int, mode: str, fresh_forward: bool, retain_graph: bool) -> bool:
        """Apply the controls; True (and a fresh start) when anything changed."""
        new = (int(calls), mode, bool(fresh_forward), bool(retain_graph))
        if new == (self.calls, self.mode, self.fresh_forward, self.retain_graph):
            return False
        if not 1 <= new[0] <= MAX_CALLS:
            raise ValueError(f"calls={new[0]} is out of range; choose 1 to {MAX_CALLS}.")
        self.calls, _, self.fresh_forward, self.retain_graph = new
        self.set_mode(mode)
        return True

    def reset(self) -> None:
        """A fresh leaf ``x`` (``x.grad`` is None), no graph, no calls made yet."""
        self.leaf = torch.tensor(self.x, dtype=DTYPE, requires_grad=True)
        self._y: torch.Tensor | None = None
        self.result = AccumulationResult(self.variable, code=self.code_lines())
        self._reference = None

    # -- one call at a time ----------------------------------------------------------------
    @property
    def made(self) -> int:
        """Backward calls made so far (the failing one included)."""
        return len(self.result.grads) + (1 if self.result.error else 0)

    @property
    def finished(self) -> bool:
        return bool(self.result.error) or len(self.result.grads) >= self.calls

    def next_call(self) -> None:
        """Make the next backward call on the persistent ``x``; then clear as ``mode`` says.

        A call that raises (the same graph twice without ``retain_graph``) is recorded as
        the run's error and ends it.
        """
        if self.finished:
            raise ValueError(f"All {self.calls} calls are made; press Reset to start again.")
        assert self._forward is not None
        r, x = self.result, self.leaf
        if self.fresh_forward or self._y is None:
            self._y = self._forward(x)
        try:
            self._y.backward(retain_graph=self.retain_graph)
        except RuntimeError as exc:
            r.error = one_line(exc)
            r.failed_call = len(r.grads) + 1
            return
        r.grads.append(None if x.grad is None else float(x.grad.item()))
        name = short_name(self.variable)
        if self.mode == "grad.zero_()" and x.grad is not None:
            x.grad.zero_()
            r.after.append(f"{name}.grad.zero_() → {x.grad.item():g}")
        elif self.mode == "grad = None":
            x.grad = None
            r.after.append(f"{name}.grad = None")
        else:
            r.after.append("nothing")

    def run_rest(self) -> None:
        """Make every remaining call (stops at an error)."""
        while not self.finished:
            self.next_call()

    def pending(self) -> tuple[str, float | str] | None:
        """``(label, truth)`` of the next call: ``x.grad`` right after it, or "error"."""
        if self.finished:
            return None
        if self._reference is None:
            self._reference = self.run()
        k = len(self.result.grads)
        label = f"{short_name(self.variable)}.grad after call {k + 1}"
        if self._reference.failed_call == k + 1:
            return label, "error"
        g = self._reference.grads[k]
        return label, float("nan") if g is None else g

    def slips(self) -> dict[str, float]:
        """The next call's common slip: ``x.grad`` replaced instead of added to
        (``grad_overwritten``: one call's gradient) while nothing clears it, or added up
        although it was cleared (``not_zeroed``)."""
        target = self.pending()
        if target is None or self._reference is None or not self._reference.grads:
            return {}
        one, k = self._reference.grads[0], len(self.result.grads)
        if one is None or k == 0 or target[1] == "error":
            return {}
        if self.mode == "nothing":
            return {"grad_overwritten": one}
        return {"not_zeroed": (k + 1) * one}

    # -- the whole loop at once --------------------------------------------------------------
    def code_lines(self) -> list[str]:
        v = self.variable
        lines = [f"{v} = torch.tensor({self.x!r}, requires_grad=True)"]
        rg = "retain_graph=True" if self.retain_graph else ""
        if not self.fresh_forward:
            lines.append(f"y = {self.expression}        # one forward pass, one graph")
        lines.append(f"for i in range({self.calls}):")
        if self.fresh_forward:
            lines.append(f"    y = {self.expression}    # fresh forward: a new graph each call")
        lines.append(f"    y.backward({rg})")
        lines.append(f"    print(f'Gradient of {v} at {{i}} is {{{v}.grad}}')")
        if self.mode == "grad.zero_()":
            lines.append(f"    {v}.grad.zero_()")
        elif self.mode == "grad = None":
            lines.append(f"    {v}.grad = None")
        return lines

    def run(self) -> AccumulationResult:
        """The whole loop on a fresh ``x`` (the persistent one is left alone)."""
        if not 1 <= self.calls <= MAX_CALLS:
            raise ValueError(f"calls={self.calls} is out of range; choose 1 to {MAX_CALLS}.")
        keep = (self.leaf, self._y, self.result, self._reference)
        self.reset()
        self.run_rest()
        done = self.result
        self.leaf, self._y, self.result, self._reference = keep
        return done

    def log_lines(self, result: AccumulationResult | None = None) -> list[str]:
        """Lesson 06's printout so far: ``Gradient of x at 0 is 12.0`` … (the error apart)."""
        r = self.result if result is None else result
        v = short_name(r.variable)
        return [
            f"Gradient of {v} at {i} is {'None' if g is None else fmt_short(g)}"
            for i, g in enumerate(r.grads)
        ]
