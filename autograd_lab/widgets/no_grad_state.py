"""The plain-Python state of NoGradExplorer: four ways to stop gradient tracking, measured live.

Columns: plain (tracking on), ``x.requires_grad_(False)``, ``x.detach()``, ``torch.no_grad()``.
For each the panel runs the code on a fresh ``x = torch.tensor(2.0, requires_grad=True)``
and reports the tensor you go on computing with (``requires_grad``, ``is_leaf``, ``grad_fn``,
whether it shares storage with ``x``), and what ``y.backward()`` does — ``x.grad = 4.0``
(``dy/dx = 2x``) or the real ``RuntimeError`` text. A toggle shows that an in-place edit
of the detached tensor changes ``x`` too (same storage), and what backward then says.

Predict, then reveal: only the plain column is shown at first. For each other column the
learner commits a guess for every row (True/False, None or a ``grad_fn`` name, yes/no, a
value or "error"), then reveals the column and sees which guesses were right.

:class:`NoGradPanel` is the plain-Python logic;
:class:`~autograd_lab.widgets.no_grad.NoGradExplorer` the view.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from autograd_lab.formatting import fmt_short
from autograd_lab.widgets.base import one_line

METHODS = ("plain", "requires_grad_(False)", "detach()", "torch.no_grad()")

CODE = {
    "plain": "x = torch.tensor(2.0, requires_grad=True)\ny = x ** 2\ny.backward()",
    "requires_grad_(False)": (
        "x = torch.tensor(2.0, requires_grad=True)\nx.requires_grad_(False)\ny = x ** 2\n"
        "y.backward()"
    ),
    "detach()": (
        "x = torch.tensor(2.0, requires_grad=True)\nz = x.detach()\ny = z ** 2\ny.backward()"
    ),
    "torch.no_grad()": (
        "x = torch.tensor(2.0, requires_grad=True)\nwith torch.no_grad():\n    y = x ** 2\n"
        "y.backward()"
    ),
}

#: The tensor each column goes on computing with.
HANDLE = {"plain": "x", "requires_grad_(False)": "x", "detach()": "z", "torch.no_grad()": "y"}

INPLACE_CODE = (
    "x = torch.tensor(2.0, requires_grad=True)\ny = x ** 2      # saves x for backward\n"
    "z = x.detach()\nz.add_(1.0)     # in-place edit of the detached tensor\ny.backward()"
)


#: The rows a learner guesses before a column is revealed: (key, row label).
GUESS_ROWS = (
    ("requires_grad", ".requires_grad"),
    ("is_leaf", ".is_leaf"),
    ("grad_fn", ".grad_fn"),
    ("shares_storage", "shares storage with x"),
    ("y_grad_fn", "y.grad_fn"),
    ("backward", "y.backward()"),
)


@dataclass(frozen=True)
class ColumnResult:
    """One column, measured live: properties of the handle tensor and of ``y``."""

    method: str
    code: str
    handle: str
    value: str
    requires_grad: bool
    is_leaf: bool
    grad_fn: str
    shares_storage: bool
    same_object: bool
    y_grad_fn: str
    x_requires_grad_after: bool
    backward: str  # "x.grad = 4.0" or "RuntimeError: …"
    backward_ok: bool


@dataclass(frozen=True)
class InplaceResult:
    """What ``z.add_(1)`` on ``z = x.detach()`` does to ``x`` (and to a graph that saved x)."""

    code: str
    x_before: str
    x_after: str
    z_after: str
    shares_storage: bool
    backward: str


def _grad_fn_name(t: torch.Tensor) -> str:
    return "None" if t.grad_fn is None else f"<{type(t.grad_fn).__name__}>"


def _backward(y: torch.Tensor, x: torch.Tensor) -> tuple[str, bool]:
    try:
        y.backward()
    except RuntimeError as exc:
        return one_line(exc), False
    return f"x.grad = {fmt_short(x.grad.item())}", True


def _code(method: str, x_value: float) -> str:
    return CODE[method].replace("torch.tensor(2.0,", f"torch.tensor({float(x_value)!r},")


def run_column(method: str, x_value: float = 2.0) -> ColumnResult:
    """Run one column's code for real and describe the result."""
    if method not in METHODS:
        raise ValueError(f"Unknown column {method!r}; choose one of {', '.join(METHODS)}.")
    x = torch.tensor(float(x_value), requires_grad=True)
    ptr = x.data_ptr()
    if method == "plain":
        handle = x
        y = x**2
    elif method == "requires_grad_(False)":
        handle = x.requires_grad_(False)
        y = handle**2
    elif method == "detach()":
        handle = x.detach()
        y = handle**2
    else:
        with torch.no_grad():
            y = x**2
        handle = y
    result, ok = _backward(y, x)
    return ColumnResult(
        method=method,
        code=_code(method, x_value),
        handle=HANDLE[method],
        value=repr(handle),
        requires_grad=handle.requires_grad,
        is_leaf=handle.is_leaf,
        grad_fn=_grad_fn_name(handle),
        shares_storage=handle.data_ptr() == ptr,
        same_object=handle is x,
        y_grad_fn=_grad_fn_name(y),
        x_requires_grad_after=x.requires_grad,
        backward=result,
        backward_ok=ok,
    )


def run_inplace(x_value: float = 2.0, delta: float = 1.0) -> InplaceResult:
    """``z = x.detach(); z.add_(delta)``: x changes too; a graph that saved x then refuses."""
    x = torch.tensor(float(x_value), requires_grad=True)
    before = repr(x)
    y = x**2
    z = x.detach()
    z.add_(delta)
    result, _ = _backward(y, x)
    return InplaceResult(
        code=INPLACE_CODE.replace("add_(1.0)", f"add_({float(delta)!r})").replace(
            "torch.tensor(2.0,", f"torch.tensor({float(x_value)!r},"),
        x_before=before,
        x_after=repr(x),
        z_after=repr(z),
        shares_storage=z.data_ptr() == x.data_ptr(),
        backward=result,
    )


class NoGradPanel:
    """The four columns (recomputed by :meth:`refresh`), the learner's guesses, the toggle.

    ``revealed`` holds the columns whose values are shown (the plain one from the start);
    ``guesses[method][key]`` the learner's choice for a row of :data:`GUESS_ROWS`.
    """

    def __init__(self, x_value: float = 2.0) -> None:
        self.x_value = float(x_value)
        self.selected = METHODS[0]
        self.show_inplace = False
        self.revealed: set[str] = {METHODS[0]}
        self.guesses: dict[str, dict[str, str]] = {m: {} for m in METHODS}
        self.refresh()

    def refresh(self) -> None:
        self.columns = {m: run_column(m, self.x_value) for m in METHODS}
        self.inplace = run_inplace(self.x_value) if self.show_inplace else None

    def select(self, method: str) -> None:
        if method not in METHODS:
            raise ValueError(f"Unknown column {str(method)[:30]!r}; choose one of "
                             f"{', '.join(METHODS)}.")
        self.selected = method

    def toggle_inplace(self, on: bool | None = None) -> None:
        self.show_inplace = (not self.show_inplace) if on is None else bool(on)
        self.inplace = run_inplace(self.x_value) if self.show_inplace else None

    # -- guesses ---------------------------------------------------------------------------
    def choices(self, key: str) -> tuple[str, ...]:
        """What a learner may answer for row ``key`` (names and values measured live)."""
        plain = self.columns["plain"]
        if key in ("requires_grad", "is_leaf"):
            return ("True", "False")
        if key in ("grad_fn", "y_grad_fn"):
            return ("None", plain.y_grad_fn)
        if key == "shares_storage":
            return ("yes", "no")
        if key == "backward":
            return (plain.backward, "error")
        raise ValueError(f"Unknown row {str(key)[:30]!r}; choose one of "
                         f"{', '.join(k for k, _ in GUESS_ROWS)}.")

    def truth(self, method: str, key: str) -> str:
        """The true answer to row ``key`` of column ``method``, in the words of :meth:`choices`."""
        c = self.columns[method]
        return {
            "requires_grad": str(c.requires_grad), "is_leaf": str(c.is_leaf),
            "grad_fn": c.grad_fn, "shares_storage": "yes" if c.shares_storage else "no",
            "y_grad_fn": c.y_grad_fn, "backward": c.backward if c.backward_ok else "error",
        }[key]

    def guess(self, method: str, key: str, answer: str) -> None:
        """Commit a guess for one row of a column that is not revealed yet."""
        self.select(method)
        if answer not in self.choices(key):
            raise ValueError(f"{str(answer)[:30]!r} is not a choice here; pick one of "
                             f"{', '.join(self.choices(key))}.")
        if method in self.revealed:
            raise ValueError(f"The {method} column is already shown; press Start over to "
                             "guess again.")
        self.guesses[method][key] = answer

    def missing(self, method: str) -> list[str]:
        """Row labels of ``method`` that have no guess yet."""
        return [label for key, label in GUESS_ROWS if key not in self.guesses[method]]

    def reveal(self, method: str, force: bool = False) -> None:
        """Show a column: only once every row has a guess, unless ``force`` (the Show button)."""
        self.select(method)
        missing = self.missing(method)
        if missing and not force and method not in self.revealed:
            raise ValueError(f"Guess every row first ({len(missing)} left: {missing[0]} …), "
                             "or press Show to see it without guessing.")
        self.revealed.add(method)

    def marks(self, method: str) -> dict[str, bool]:
        """For each guessed row of a revealed column: was the guess right?"""
        if method not in self.revealed:
            return {}
        return {k: g == self.truth(method, k) for k, g in self.guesses[method].items()}

    def score_line(self, method: str) -> str:
        marks = self.marks(method)
        if method not in self.revealed:
            done = len(GUESS_ROWS) - len(self.missing(method))
            return f"{method}: {done} of {len(GUESS_ROWS)} rows guessed; then press Reveal."
        if not marks:
            return f"{method}: shown without guesses."
        return f"{method}: {sum(marks.values())} of {len(marks)} guesses right."

    def start_over(self) -> None:
        """Hide every column but plain again and forget the guesses."""
        self.revealed = {METHODS[0]}
        self.guesses = {m: {} for m in METHODS}

    # -- what it shows ---------------------------------------------------------------------
    def _cell(self, method: str, key: str | None, shown: str) -> str:
        if method not in self.revealed:
            if key is None:
                return "?"
            g = self.guesses[method].get(key)
            return "?" if g is None else f"your guess: {g}"
        ok = self.marks(method).get(key) if key else None
        if ok is None:
            return shown
        return f"{shown} ✓" if ok else f"{shown} ✗ (you: {self.guesses[method][key]})"

    def rows(self) -> list[list[str]]:
        """Table rows: a label, then one cell per column ("?" where not revealed)."""
        cols = [self.columns[m] for m in METHODS]
        keys = dict((label, key) for key, label in GUESS_ROWS)

        def yes(b: bool) -> str:
            return "yes" if b else "no"

        plain = [
            ["code", *[c.code for c in cols]],
            ["tensor you compute with", *[c.handle for c in cols]],
        ]
        hidden = [
            ["its value", *[c.value for c in cols]],
            [".requires_grad", *[str(c.requires_grad) for c in cols]],
            [".is_leaf", *[str(c.is_leaf) for c in cols]],
            [".grad_fn", *[c.grad_fn for c in cols]],
            ["shares storage with x", *[yes(c.shares_storage) for c in cols]],
            ["same object as x", *[yes(c.same_object) for c in cols]],
            ["y.grad_fn", *[c.y_grad_fn for c in cols]],
            ["x.requires_grad afterwards", *[str(c.x_requires_grad_after) for c in cols]],
            ["y.backward()", *[c.backward for c in cols]],
        ]
        return plain + [
            [label, *[self._cell(m, keys.get(label), cell)
                      for m, cell in zip(METHODS, cells, strict=True)]]
            for label, *cells in hidden
        ]

    def detail_lines(self) -> list[str]:
        c = self.columns[self.selected]
        shown = c.backward if c.method in self.revealed else "? (guess, then reveal)"
        return [f"{c.method}:", *c.code.splitlines(), f"→ {shown}"]

    def inplace_lines(self) -> list[str]:
        r = self.inplace
        if r is None:
            return []
        return [
            *r.code.splitlines(),
            f"x before: {r.x_before}",
            f"x after z.add_(1): {r.x_after}   (z = {r.z_after})",
            "z shares storage with x: " + ("yes — editing z edits x" if r.shares_storage else "no"),
            f"y.backward(): {r.backward}",
        ]
