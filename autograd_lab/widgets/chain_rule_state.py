"""The plain-Python state of ChainRuleStepper: the hand chain rule, one step at a time.

Forward steps compute each intermediate node; backward steps multiply the upstream gradient
by the local derivative, ``dz/dx = dz/dv · dv/dx``; the last position compares the manual
result with torch autograd and a central finite difference.

Predict, then reveal: :meth:`ChainRuleSteps.pending` is the value the next step shows
(``z = sin(v1)`` → 0.4121…, then ``dz/dv1`` → −0.9111…, then ``dz/dx`` → −5.4668… for
``sin(x**2)`` at 3). A variable used twice gets one *contribution* per path; its steps say
"contribution k of n" and the *running total* ``dz/dx = dz/dx(so far) + upstream · local``,
and the learner predicts the contribution.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from autograd_lab.derivation import derive
from autograd_lab.errors import GradientMismatch
from autograd_lab.formatting import fmt
from autograd_lab.graph import Graph
from autograd_lab.widgets.cursor import StepCursor, StepView


@dataclass(frozen=True)
class FinalComparison:
    """``dz/d<var>`` three ways: manual chain rule, torch autograd (float64), finite difference."""

    rows: tuple[tuple[str, float, float, float | None], ...]
    agree: bool

    def lines(self, output: str = "z") -> list[str]:
        out = []
        for name, manual, auto, numeric in self.rows:
            fd = "n/a" if numeric is None else fmt(numeric)
            out.append(
                f"d{output}/d{name}: manual = {fmt(manual)}, autograd = "
                f"{fmt(auto)}, finite difference = {fd}"
            )
        if not self.agree:
            out.append("✗ the three results do not agree (see the rows above)")
        elif any(numeric is None for *_, numeric in self.rows):
            out.append("✓ manual = autograd (finite difference n/a: a kink or the domain edge)")
        else:
            out.append("✓ manual = autograd = finite difference")
        return out


class ChainRuleSteps(StepCursor):
    """Position in a :class:`~autograd_lab.Derivation`'s steps, plus a final comparison.

    Positions ``0 … len(steps) - 1`` are the derivation's steps (forward first, then
    backward); position ``len(steps)`` is the result: manual = autograd = finite difference.
    """

    def __init__(self, expression: str = "sin(x**2)", values: dict[str, Any] | None = None):
        self.expression = ""
        self.values: dict[str, Any] = {}
        self.derivation: Any = None
        self.index = 0
        self._final: FinalComparison | None = None
        self._graph: Any = None
        self._paths: dict[int, tuple[int, int]] = {}
        self.rederive(expression, dict(values or {}))

    # -- state -----------------------------------------------------------------
    @property
    def total(self) -> int:
        """Number of positions: every step plus the final comparison."""
        return len(self.derivation.steps) + 1

    def rederive(self, expression: str | None = None, values: dict[str, Any] | None = None) -> None:
        """Derive again (new expression and/or values); keeps the position when it still exists.

        Raises ``ExpressionError``/``DerivationError`` and leaves the state unchanged when the
        new input is bad.
        """
        expression = self.expression if expression is None else expression
        values = dict(self.values if values is None else values)
        if not isinstance(expression, str):
            raise TypeError(
                f"The expression must be text in quotes, e.g. ChainRuleStepper('sin(x**2)', "
                f"x=3.0), not {type(expression).__name__}."
            )
        if not expression.strip():
            raise ValueError("The expression box is empty; type an expression such as sin(x**2).")
        derivation = derive(expression, **values)
        self.expression, self.values, self.derivation = expression, values, derivation
        self._final = None
        self._graph = None
        self._paths = _paths(derivation.steps)
        self.index = min(self.index, self.total - 1)

    @property
    def leaves(self) -> list[str]:
        return [k for k, v in self.values.items() if not isinstance(v, str)]

    def graph(self) -> Any:
        """The hand-derivation Graph (cached per derivation)."""
        if self._graph is None:
            self._graph = self.derivation.graph()
        return self._graph

    def graph_at(self, index: int | None = None) -> Any:
        """The graph as known at a position: values of nodes computed so far, gradients
        reached so far (``dz/dz = 1`` at the output first), everything at the result.
        """
        graph = self.graph()
        steps = self.derivation.steps
        i = self.index if index is None else index
        if i >= len(steps):
            return graph
        known_values: set[int] = {n.id for n in graph.nodes if n.kind == "leaf"}
        grads: dict[int, float] = {}
        for step in steps[: i + 1]:
            if step.kind == "forward":
                known_values.add(step.node_id)
            else:
                grads.setdefault(step.node_id, step.upstream if step.upstream is not None
                                 else 1.0)
                if step.input_id is not None:
                    grads[step.input_id] = step.result
        nodes = [
            replace(n, value=n.value if n.id in known_values else None, grad=grads.get(n.id))
            for n in graph.nodes
        ]
        return Graph(nodes=nodes, edges=list(graph.edges))

    def final(self) -> FinalComparison:
        """manual (chain rule), autograd (torch float64) and central difference per leaf.

        Taken from ``Derivation.check()``; the finite difference is None ("n/a") at a
        relu/abs kink or at the edge of the domain.
        """
        if self._final is None:
            try:
                table = self.derivation.check()
            except GradientMismatch as exc:
                table = exc.table
            rows = tuple(
                (r.variable, float(r.manual), float(r.autograd),
                 None if isinstance(r.numerical, str) else float(r.numerical))
                for r in table.rows
            )
            agree = bool(table.ok) and all(r.numerical_ok is not False for r in table.rows)
            self._final = FinalComparison(rows, agree)
        return self._final

    # -- predict, then reveal -----------------------------------------------------
    def pending(self) -> tuple[str, float] | None:
        """``(label, value)`` the next step reveals, or None when the next position is the
        result (or there is none): a forward node's value (``"z = sin(v1)"``), a gradient
        (``"dz/dv1"``) or, for a variable reached more than once, that path's contribution
        ``upstream · local`` (``"contribution 2 of 2 to dz/dx"``).
        """
        j = self.index + 1
        steps = self.derivation.steps
        if j >= len(steps):
            return None
        step = steps[j]
        if step.kind == "forward":
            return step.node, float(step.result)
        k, n = self._paths.get(j, (1, 1))
        target = _target(step)
        if n == 1:
            return target, float(step.result)
        return f"contribution {k} of {n} to {target}", float(step.upstream * step.local)

    def slips(self) -> dict[str, float]:
        """What the common slips give for the value the next backward step reveals: the
        local derivative alone (``missing_upstream_grad``), the upstream gradient alone
        (``missing_chain_factor``); nothing for a forward step."""
        j = self.index + 1
        steps = self.derivation.steps
        if j >= len(steps) or steps[j].kind == "forward" or steps[j].upstream is None:
            return {}
        return {"missing_upstream_grad": float(steps[j].local),
                "missing_chain_factor": float(steps[j].upstream)}

    def reveal(self) -> None:
        """Show the next step (what a right prediction, Show or Next does)."""
        self.next()

    # -- what to show ------------------------------------------------------------
    def header(self) -> str:
        parts = []
        for name, value in self.values.items():
            parts.append(f"{name} = {value}" if isinstance(value, str) else f"{name} = {value:g}")
        out = f"{self.derivation.output_name} = {self.expression}"
        return f"{out}   at " + ", ".join(parts) if parts else out

    def current_view(self) -> StepView:
        steps = self.derivation.steps
        n_forward = sum(1 for s in steps if s.kind == "forward")
        i = self.index
        if i == len(steps):
            final = self.final()
            out = self.derivation.output_name
            lines = [f"{out} = {self.expression} = {fmt(self.derivation.value)}",
                     *final.lines(out)]
            leaves = tuple(n.id for n in self.graph().nodes if n.kind == "leaf")
            if leaves:
                lines.append(f"highlighted in the graph: the leaves {', '.join(self.leaves)}, "
                             "whose gradients these are")
            else:
                out_id = _output_id(self.graph())
                leaves = (out_id,) if out_id is not None else ()
            return StepView("result", f"Result (step {i + 1} of {self.total})",
                            tuple(lines), leaves, final)
        step = steps[i]
        if step.kind == "forward":
            title = f"Forward step {i + 1} of {n_forward} (step {i + 1} of {self.total})"
            lines = [step.node, f"operation: {step.formula}", f"value = {fmt(step.result)}"]
            return StepView("forward", title, tuple(lines), (step.node_id,))
        k = i - n_forward + 1
        title = (
            f"Backward step {k} of {len(steps) - n_forward} (step {i + 1} of {self.total})"
        )
        k, n = self._paths.get(i, (1, 1))
        product = f"{fmt(step.upstream)} × {fmt(step.local)}"
        if n == 1:
            lines = [
                f"local derivative: {step.formula}",
                f"  local = {fmt(step.local)}",
                f"  upstream = {fmt(step.upstream)}",
                f"  upstream × local = {product} = {fmt(step.result)}",
            ]
        else:
            lines = _contribution_lines(step, k, n, product)
        highlight = (step.node_id,) if step.input_id is None else (step.node_id, step.input_id)
        return StepView("backward", title, tuple(lines), highlight)


def _output_id(graph: Any) -> int | None:
    for node in graph.nodes:
        if node.kind == "output":
            return node.id
    return graph.nodes[-1].id if graph.nodes else None


def _target(step: Any) -> str:
    """``"dz/dx"`` from a backward step's formula ``"dz/dx += dz/dv1 · 2*x"``."""
    return step.formula.split(" ", 1)[0]


def _paths(steps: list[Any]) -> dict[int, tuple[int, int]]:
    """Step index → ``(k, n)``: this backward step is path ``k`` of ``n`` into its input."""
    counts: dict[int, int] = {}
    for step in steps:
        if step.kind == "backward" and step.input_id is not None:
            counts[step.input_id] = counts.get(step.input_id, 0) + 1
    seen: dict[int, int] = {}
    out = {}
    for i, step in enumerate(steps):
        if step.kind == "backward" and step.input_id is not None:
            seen[step.input_id] = seen.get(step.input_id, 0) + 1
            out[i] = (seen[step.input_id], counts[step.input_id])
    return out


def _contribution_lines(step: Any, k: int, n: int, product: str) -> list[str]:
    """A variable reached by ``n`` paths: this path's contribution, then the running total."""
    target = _target(step)
    chain = step.formula.split("= ", 1)[-1]
    contribution = step.upstream * step.local
    lines = [
        f"contribution {k} of {n} to {target}: {chain}",
        f"  local = {fmt(step.local)}",
        f"  upstream = {fmt(step.upstream)}",
        f"  contribution = upstream × local = {product} = {fmt(contribution)}",
    ]
    if k == 1:
        lines.append(f"  running total: {target} = {fmt(step.result)} (1 of {n} paths so far)")
    else:
        before = step.result - contribution
        lines.append(f"  running total: {target} = {fmt(before)} + {fmt(contribution)} = "
                     f"{fmt(step.result)} ({k} of {n} paths)")
    if k < n:
        left = n - k
        lines.append(f"  not final yet: {left} more contribution{'s' if left > 1 else ''} to add")
    else:
        lines.append(f"  all {n} paths added: {target} = {fmt(step.result)}")
    return lines
