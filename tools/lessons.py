# Lesson text is data: long markdown table rows and notebook lines are content, not code.
# ruff: noqa: E501
"""The eight lesson notebooks, written as data, and the builder that turns them into .ipynb files.

Edit a lesson here, then::

    python -m tools.lessons          # rewrite changed notebooks/0N_*.ipynb (without outputs)
                                     # and teacher notes; unchanged notebooks keep outputs
    make notebooks                   # execute them in place: the only way outputs are made

``python -m tools.lessons --check`` exits non-zero when a notebook's cell sources or a teacher
note differ from what this file would write (tests/test_notebooks.py runs the same check).

Each lesson is a list of cells. ``md`` is a markdown cell, ``code`` a code cell (``tags`` such
as ``raises-exception`` become cell metadata), ``widget`` the cell that embeds a widget from
``autograd_lab.widgets`` (a marked markdown placeholder until the widget exists), and the
"predict, then run" questions are :class:`Question` objects: the prompt and code go to the
student's notebook, the expected output and the explanation to ``notebooks/teacher-notes/``.
Expected outputs are checked by running the code (tests/test_notebooks.py).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TEACHER_NOTES = NOTEBOOKS / "teacher-notes"

SETUP = "import torch\n\nimport autograd_lab\n\nautograd_lab.notebook_setup()"


@dataclass(frozen=True)
class Cell:
    kind: str  # "markdown" | "code"
    source: str
    tags: tuple[str, ...] = ()
    id: str | None = None
    hide_source: bool = False


@dataclass(frozen=True)
class Question:
    """A "predict, then run" question; ``expected`` is exactly what ``code`` prints."""

    prompt: str
    code: str
    expected: str
    why: str


@dataclass
class Lesson:
    name: str  # file stem, e.g. "01_first_gradient"
    title: str
    cells: list[Cell]
    summary: str
    questions: list[Question] = field(default_factory=list)

    @property
    def number(self) -> str:
        return self.name[:2]


def _text(source: str) -> str:
    return dedent(source).strip("\n")


def md(source: str, *, id: str | None = None) -> Cell:
    return Cell("markdown", _text(source), id=id)


def code(source: str, *tags: str, id: str | None = None, hide_source: bool = False) -> Cell:
    return Cell("code", _text(source), tuple(tags), id=id, hide_source=hide_source)


def widget(name: str, call: str) -> Cell:
    """Embed ``autograd_lab.widgets.<name>``; a marked placeholder until that widget exists."""
    cell_id = "widget-" + "".join("-" + c.lower() if c.isupper() else c for c in name).strip("-")
    if _widget_available(name):
        return code(f"from autograd_lab.widgets import {name}\n\n{call}", id=cell_id)
    return md(
        f"""
        > **Widget: {name} (from autograd_lab.widgets)** — placeholder.
        > The interactive version of this lesson goes here once `autograd_lab.widgets`
        > provides `{name}`; it will be embedded as `{call}`.
        """,
        id=cell_id,
    )


def _widget_available(name: str) -> bool:
    try:
        module = importlib.import_module("autograd_lab.widgets")
        getattr(module, name)
    except Exception:  # noqa: BLE001 - any failure means "not there yet"
        return False
    return True


# --------------------------------------------------------------------------------------
# Lesson 01
# --------------------------------------------------------------------------------------

L01 = Lesson(
    "01_first_gradient",
    "Your first gradient",
    [
        md(
            """
            By the end of this notebook you will be able to:

            * ask PyTorch to track a tensor with `requires_grad=True`,
            * compute a derivative with `.backward()` and read it from `.grad`,
            * explain why an integer tensor cannot require gradients, and why `.grad` of an
              intermediate result is `None` (and how `retain_grad()` changes that).
            """
        ),
        code(SETUP),
        md(
            """
            ## A derivative by hand

            For $y = x^2$ the derivative is $\\frac{dy}{dx} = 2x$. Written as Python, it is a
            one-line function. **Predict** what it returns at $x = 2$ and at $x = 3$.
            """
        ),
        code(
            """
            def dy_dx(x):
                return 2 * x
            """
        ),
        code("dy_dx(2)"),
        code("dy_dx(3)"),
        md(
            """
            ## Asking autograd instead

            Autograd needs to know which tensors to watch. **Predict:** can an *integer*
            tensor, `torch.tensor(3)`, be watched? (This cell fails on purpose.)
            """
        ),
        code("x = torch.tensor(3, requires_grad=True)", "raises-exception"),
        md(
            """
            Derivatives only make sense for numbers that can change smoothly, so gradients
            need a floating-point (or complex) tensor. Write `3.0`, not `3`.
            """
        ),
        code(
            """
            x = torch.tensor(3.0, requires_grad=True)
            y = x**2
            print(x)
            print(y)
            """
        ),
        md(
            """
            `y` remembers how it was made: `grad_fn=<PowBackward0>` is the backward rule of
            `**`. **Predict** the value `backward()` will put into `x.grad`.
            """
        ),
        code("y.backward()"),
        code("x.grad"),
        md(
            """
            ## The same derivative with `autograd_lab`

            `autograd_lab.derive` applies the rules of calculus to the formula you type, and
            `.check()` compares the hand result with torch autograd and a finite difference.
            """
        ),
        code(
            """
            d = autograd_lab.derive("x**2", x=3.0)
            d.gradient
            """
        ),
        code("d.check()"),
        md(
            """
            ## `.grad` lives on leaves

            `x` is a **leaf** (you created it); `y` is an **intermediate** result.
            **Predict** what `y.grad` holds after `y.backward()`.
            """
        ),
        code("x.is_leaf, y.is_leaf"),
        code("y.grad"),
        md(
            """
            Torch warns and gives `None`: it frees intermediate gradients to save memory.
            If you really want one, call `retain_grad()` *before* `backward()`.
            """
        ),
        code(
            """
            x = torch.tensor(3.0, requires_grad=True)
            y = x**2
            y.retain_grad()
            y.backward()
            print(y.grad)  # dy/dy = 1
            print(x.grad)  # dy/dx = 2x = 6
            """
        ),
    ],
    """
    * `requires_grad=True` (on a float tensor) makes torch record every operation on it.
    * `y.backward()` runs the chain rule backwards and stores $\\frac{dy}{dx}$ in `x.grad`.
    * `.grad` is filled for leaves only; `retain_grad()` keeps it for an intermediate.
    * `autograd_lab.derive(...).check()` shows hand rule, autograd and a finite difference
      agree.
    """,
    [
        Question(
            "What is `x.grad` for $y = x^2$ at $x = 5$?",
            """
            x = torch.tensor(5.0, requires_grad=True)
            (x**2).backward()
            print(x.grad)
            """,
            "tensor(10.)",
            "dy/dx = 2x = 10 at x = 5.",
        ),
        Question(
            "Does `torch.tensor([1.0, 2.0], requires_grad=True)` work? And "
            "`torch.tensor([1, 2], dtype=torch.float32, requires_grad=True)`?",
            """
            print(torch.tensor([1.0, 2.0], requires_grad=True))
            print(torch.tensor([1, 2], dtype=torch.float32, requires_grad=True))
            """,
            "tensor([1., 2.], requires_grad=True)\ntensor([1., 2.], requires_grad=True)",
            "Both are floating-point tensors; only the dtype matters, not how the numbers "
            "are written. Integer dtypes are what fail.",
        ),
        Question(
            "For $y = x^3$ at $x = 2$, what do `x.grad` and (with `retain_grad()`) `y.grad` "
            "hold after `y.backward()`?",
            """
            x = torch.tensor(2.0, requires_grad=True)
            y = x**3
            y.retain_grad()
            y.backward()
            print(x.grad, y.grad)
            """,
            "tensor(12.) tensor(1.)",
            "dy/dx = 3x^2 = 12; the gradient of y with respect to itself is always 1.",
        ),
    ],
)

# --------------------------------------------------------------------------------------
# Lesson 02
# --------------------------------------------------------------------------------------

L02 = Lesson(
    "02_chain_rule",
    "The chain rule",
    [
        md(
            """
            By the end of this notebook you will be able to:

            * differentiate a function of a function with the chain rule,
              $\\frac{dz}{dx} = \\frac{dz}{dy} \\cdot \\frac{dy}{dx}$,
            * check a hand derivation against autograd and a finite difference,
            * follow a chain of three links, $x \\to y \\to z \\to u$.
            """
        ),
        code(SETUP),
        md(
            """
            ## $z = \\sin(x^2)$ by hand

            Name the inner part $y = x^2$, so $z = \\sin(y)$. Then
            $\\frac{dz}{dx} = \\frac{dz}{dy} \\cdot \\frac{dy}{dx} = \\cos(y) \\cdot 2x$.
            **Predict** the sign of $\\frac{dz}{dx}$ at $x = 2$ ($\\cos 4 < 0$).
            """
        ),
        code(
            """
            import math


            def dy_dx(x):
                return 2 * x

            def dz_dx(x):
                return dy_dx(x) * math.cos(x**2)

            for x in (2, 3, 4):
                print(dz_dx(x))
            """
        ),
        md(
            """
            `autograd_lab.derive` does the same derivation step by step. Passing `y="x**2"`
            names the inner part, so `y` is its own node.
            """
        ),
        code(
            """
            d = autograd_lab.derive("sin(y)", y="x**2", x=3.0)
            for step in d.steps:
                print(step)
            """
        ),
        code("d.gradient"),
        code("d.check()"),
        md(
            """
            ## The same with autograd

            **Predict** the four-digit value torch prints for `x.grad` at $x = 3$.
            """
        ),
        code(
            """
            x = torch.tensor(3.0, requires_grad=True)
            y = x**2
            z = torch.sin(y)
            """
        ),
        code("x, y, z"),
        code(
            """
            z.backward()
            x.grad
            """
        ),
        md(
            """
            Torch prints four decimals: `-5.4668` is the hand value `-5.466781571308061`
            rounded (torch computes in float32). At $x = 4$:
            """
        ),
        code(
            """
            x = torch.tensor(4.0, requires_grad=True)
            y = x**2
            z = torch.sin(y)
            print(x)
            print(y)
            print(z)
            """
        ),
        code(
            """
            z.backward()
            x.grad
            """
        ),
        md(
            """
            ## A different inner function: $y = x^3$, $z = \\sin(y)$ at $x = 2$

            Now $\\frac{dz}{dx} = \\cos(x^3) \\cdot 3x^2$. **Predict:** $\\cos 8 \\approx -0.1455$,
            so what is $\\frac{dz}{dx}$?
            """
        ),
        code(
            """
            x = torch.tensor(2.0, requires_grad=True)
            y = x**3
            z = torch.sin(y)
            z
            """
        ),
        code("y"),
        code(
            """
            z.backward()
            x.grad
            """
        ),
        code('autograd_lab.derive("sin(x**3)", x=2.0).check()'),
        md(
            """
            ## When $y$ is used twice: $z = 2y + y^2$ with $y = x^2$

            $\\frac{dz}{dy} = 2 + 2y$ and $\\frac{dy}{dx} = 2x$. At $x = 2$: $y = 4$, $z = 24$.
            **Predict** $\\frac{dz}{dx}$.
            """
        ),
        code(
            """
            x = torch.tensor(2.0, requires_grad=True)
            y = x**2
            z = 2 * y + y**2
            z.backward()
            print("x", x)
            print("y", y)
            print("z", z)
            """
        ),
        code("x.grad"),
        code(
            """
            d = autograd_lab.derive("2*y + y**2", y="x**2", x=2.0)
            print(d.value, d.gradient)
            """
        ),
        md(
            """
            `y` is not a leaf, so its `.grad` stays empty (lesson 1) and torch warns.
            **Predict:** what about `z`, the root of the graph?
            """
        ),
        code("y.grad"),
        code("z.grad"),
        md(
            """
            The root is not a leaf either: `backward()` starts there with
            $\\frac{dz}{dz} = 1$ but does not store it. Only leaves keep `.grad`.
            """
        ),
        md(
            """
            ## A third link: $u = e^{z}$, $z = \\sin(y)$, $y = x^2$

            Each link adds one factor:
            $\\frac{du}{dx} = e^{z} \\cdot \\cos(y) \\cdot 2x$. Deriving this by hand gets
            tedious fast — which is why autograd exists. **Predict** at $x = 3$:
            $e^{\\sin 9} \\approx 1.51$ times the $-5.4668$ from before.
            """
        ),
        code(
            """
            x = torch.tensor(3.0, requires_grad=True)
            u = torch.exp(torch.sin(x**2))
            u.backward()
            print(u)
            print(x.grad)
            """
        ),
        code('autograd_lab.derive("exp(z)", z="sin(y)", y="x**2", x=3.0).check()'),
        md(
            """
            ## Try it: the chain rule, one step at a time

            Type an expression and move the slider; **Next** goes through the forward steps, then
            one backward factor at a time. Predict each product before you press.
            """
        ),
        widget("ChainRuleStepper", 'ChainRuleStepper("sin(x**2)", x=3.0)'),
    ],
    """
    * Chain rule: multiply the local derivatives along the path,
      $\\frac{dz}{dx} = \\frac{dz}{dy} \\cdot \\frac{dy}{dx}$.
    * When a value is used twice, the contributions **add** ($2 + 2y$ above).
    * Torch prints 4 decimals of a float32 result; the hand derivation in Python floats has
      all digits; `.check()` compares them with a tolerance.
    """,
    [
        Question(
            "What is $\\frac{dz}{dx}$ for $z = \\cos(x^2)$ at $x = 0$?",
            """
            x = torch.tensor(0.0, requires_grad=True)
            torch.cos(x**2).backward()
            print(x.grad)
            """,
            "tensor(-0.)",
            "-sin(x^2) * 2x = 0 at x = 0; the sign of the zero comes from the product "
            "-sin(0) * 0, so torch prints -0.",
        ),
        Question(
            "For $z = 2y + y^2$, $y = x^2$, what is $\\frac{dz}{dx}$ at $x = 1$?",
            """
            x = torch.tensor(1.0, requires_grad=True)
            y = x**2
            (2 * y + y**2).backward()
            print(x.grad)
            """,
            "tensor(8.)",
            "dz/dy = 2 + 2y = 4 and dy/dx = 2x = 2, so 8.",
        ),
        Question(
            "Which factor is missing if a student writes `cos(x**2)` for the derivative of "
            "`sin(x**2)`? Compare at $x = 2$.",
            """
            import math
            print(round(math.cos(2**2), 4), round(math.cos(2**2) * 2 * 2, 4))
            """,
            "-0.6536 -2.6146",
            "The inner derivative dy/dx = 2x is missing: only the outer factor was kept.",
        ),
    ],
)

# --------------------------------------------------------------------------------------
# Lesson 03
# --------------------------------------------------------------------------------------

L03 = Lesson(
    "03_computational_graph",
    "The computational graph",
    [
        md(
            """
            By the end of this notebook you will be able to:

            * describe the graph autograd records: a DAG whose **leaves** are the input
              tensors and whose **root** is the output,
            * walk it yourself with `grad_fn` and `next_functions`, and tell leaves from
              non-leaves with `is_leaf`,
            * draw the graph and replay torch's real backward pass node by node.
            """
        ),
        code(SETUP),
        md(
            """
            In a forward pass autograd does two things at once: it computes each result, and
            it records that operation's *backward function* in a directed acyclic graph.
            `.backward()` on the root walks that graph from the root to the leaves, applying
            the chain rule and **accumulating** each gradient into the leaf's `.grad`.

            ## $y = x^2 + 3x + 1$ at $x = 2$

            **Predict** $y$ and $\\frac{dy}{dx} = 2x + 3$.
            """
        ),
        code(
            """
            x = torch.tensor([2.0], requires_grad=True)
            y = x**2 + 3 * x + 1
            y
            """
        ),
        code(
            """
            y.backward()
            x.grad
            """
        ),
        code(
            """
            d = autograd_lab.derive("x**2 + 3*x + 1", x=2.0)
            print(d.value, d.gradient)
            """
        ),
        md(
            """
            ## Walking the graph by hand

            `y.grad_fn` is the last operation (the `+ 1`). Its `next_functions` point at the
            operations that made its inputs. The constant `1` made nothing, so its entry is
            `None`. Follow the first input at each step: **predict** how many steps it takes
            to reach `x`.
            """
        ),
        code(
            """
            def name(fn):
                return None if fn is None else type(fn).__name__

            fn = y.grad_fn
            while fn is not None:
                inputs = [name(f) for f, _ in fn.next_functions]
                print(name(fn), "<-", inputs)
                fn = next((f for f, _ in fn.next_functions if f is not None), None)
            """
        ),
        md(
            """
            The walk ends at `AccumulateGrad`: the node that adds the incoming gradient to a
            leaf's `.grad`. Leaves have no `grad_fn`; results have one.
            """
        ),
        code(
            """
            print("x: is_leaf", x.is_leaf, "grad_fn", x.grad_fn)
            print("y: is_leaf", y.is_leaf, "grad_fn", name(y.grad_fn))
            """
        ),
        md(
            """
            `autograd_lab.autograd_graph` does that walk for you (iteratively, so very deep
            graphs work too) and `draw_graph` draws it as a picture.
            """
        ),
        code(
            """
            graph = autograd_lab.autograd_graph(y, names={"x": x})
            for node in graph.nodes:
                print(node.id, node.kind, node.label)
            """
        ),
        code("autograd_lab.draw_graph(graph)"),
        md(
            """
            ## The linear model's graph

            One training example of a linear model: prediction $\\hat y = w x + b$, loss
            $L = (\\hat y - y_{true})^2$. The seed notebook sketched its graph in ASCII;
            here is the real one. **Predict** which nodes are leaves.
            """
        ),
        code(
            """
            x = torch.tensor(2.0)
            y_true = torch.tensor(5.0)
            w = torch.tensor(1.0, requires_grad=True)
            b = torch.tensor(0.0, requires_grad=True)

            y_hat = w * x + b
            loss = (y_hat - y_true) ** 2
            loss
            """
        ),
        code(
            """
            linear_graph = autograd_lab.autograd_graph(loss, names={"w": w, "b": b})
            autograd_lab.draw_graph(linear_graph)
            """
        ),
        md(
            """
            Only `w` and `b` are leaves of torch's graph: `x` and `y_true` track nothing, so
            they enter as constants inside `MulBackward0` and `SubBackward0` (the seed's
            sketch drew them as inputs too).

            By hand: $\\frac{\\partial L}{\\partial \\hat y} = 2(\\hat y - y_{true}) = -6$,
            then $\\frac{\\partial L}{\\partial w} = -6 \\cdot x = -12$ and
            $\\frac{\\partial L}{\\partial b} = -6 \\cdot 1 = -6$.

            ## Replaying the real backward pass

            `trace_backward` runs torch's own `.backward()` and records every node it visits,
            in order: what gradient came in (`grad_outputs`) and what went out
            (`grad_inputs`). **Predict** the order.
            """
        ),
        code(
            """
            def show(t):
                return None if t is None else round(t.item(), 4)

            for step in autograd_lab.trace_backward(loss):
                ins = [show(g) for g in step.grad_outputs]
                outs = [show(g) for g in step.grad_inputs]
                print(f"{step.node:16} in {ins}  out {outs}")
            """
        ),
        md(
            """
            `trace_backward` puts every leaf's `.grad` back the way it found it, so the replay
            changes nothing. A plain `backward()` stores the results:
            """
        ),
        code(
            """
            print(w.grad, b.grad)
            loss.backward()
            print(w.grad, b.grad)
            """
        ),
        md(
            """
            ## Try it: torch's real backward pass

            Step node by node through the backward pass of $e^{\\sin(x^2)}$: **predict** what each
            node receives and what it sends on, ending at `AccumulateGrad`.
            """
        ),
        widget("BackwardTracer", 'BackwardTracer("exp(sin(x**2))", x=3.0)'),
    ],
    """
    * Autograd records a DAG: leaves are the tensors you created, the root is the output.
    * `grad_fn` / `next_functions` link each result to the operations that made it;
      `AccumulateGrad` writes into a leaf's `.grad`.
    * `.backward()` visits the nodes from the root towards the leaves, multiplying local
      derivatives (the chain rule) — `trace_backward` shows each visit.
    """,
    [
        Question(
            "Is `w * 2` a leaf when `w` requires grad? Is `torch.tensor(2.0)`?",
            """
            w = torch.tensor(1.0, requires_grad=True)
            print((w * 2).is_leaf, torch.tensor(2.0).is_leaf)
            """,
            "False True",
            "A result of an operation on a tracked tensor is not a leaf. A tensor that "
            "tracks nothing is always a leaf (it simply has no grad_fn).",
        ),
        Question(
            "What is `grad_fn` of `x * 3` called, and of `torch.sin(x)`?",
            """
            x = torch.tensor(1.0, requires_grad=True)
            print(type((x * 3).grad_fn).__name__, type(torch.sin(x).grad_fn).__name__)
            """,
            "MulBackward0 SinBackward0",
            "Each operation's backward function is named after the operation.",
        ),
        Question(
            "For the linear-model graph with $x = 3$ (same $w = 1$, $b = 0$, "
            "$y_{true} = 5$), what are `w.grad` and `b.grad`?",
            """
            w = torch.tensor(1.0, requires_grad=True)
            b = torch.tensor(0.0, requires_grad=True)
            ((w * 3.0 + b - 5.0) ** 2).backward()
            print(w.grad, b.grad)
            """,
            "tensor(-12.) tensor(-4.)",
            "dL/dy_hat = 2(3 - 5) = -4; dL/dw = -4 * x = -12 and dL/db = -4.",
        ),
    ],
)

# --------------------------------------------------------------------------------------
# Lesson 04
# --------------------------------------------------------------------------------------

NEURON_DIAGRAM = r"""
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(10, 3.4))
ax.set_xlim(0, 12.4)
ax.set_ylim(0, 3.4)
ax.axis("off")
leaf = dict(boxstyle="round,pad=0.45", facecolor="#fdf1e3", edgecolor="#E69F00")
node = dict(boxstyle="round,pad=0.45", facecolor="#e8f0fb", edgecolor="#0072B2")
boxes = {}
for key, (px, py, label, style) in {
    "x": (0.9, 2.75, "x = 6.7\n(input)", leaf),
    "w": (0.9, 1.55, "w = 1.0\n(weight)", leaf),
    "b": (0.9, 0.35, "b = 0.0\n(bias)", leaf),
    "z": (4.4, 1.55, "z = w·x + b\n= 6.7", node),
    "p": (7.6, 1.55, "ŷ = σ(z)\n= 0.9988", node),
    "L": (11.0, 1.55, "L = BCE(ŷ, y)\n= 6.7012", node),
    "y": (11.0, 3.0, "y = 0 (label)", leaf),
}.items():
    boxes[key] = ax.text(px, py, label, ha="center", va="center", fontsize=11, bbox=style)
arrow = dict(arrowstyle="-|>", color="#444444", shrinkA=6, shrinkB=6)
for src, dst, start, end in [("x", "z", (1, 0.5), (0, 0.8)), ("w", "z", (1, 0.5), (0, 0.5)),
                             ("b", "z", (1, 0.5), (0, 0.2)), ("z", "p", (1, 0.5), (0, 0.5)),
                             ("p", "L", (1, 0.5), (0, 0.5)), ("y", "L", (0.5, 0), (0.5, 1))]:
    ax.annotate("", xy=end, xycoords=boxes[dst], xytext=start, textcoords=boxes[src],
                arrowprops=arrow)
for px, py, label in [(2.6, 1.75, "∂z/∂w = x"), (2.6, 0.55, "∂z/∂b = 1"),
                      (6.0, 1.95, "∂ŷ/∂z = ŷ(1−ŷ)"), (9.3, 1.95, "∂L/∂ŷ")]:
    ax.text(px, py, label, ha="center", fontsize=10, color="#0072B2")
ax.set_title("A single sigmoid neuron with binary cross-entropy loss")
plt.show()
"""

L04 = Lesson(
    "04_single_neuron_bce",
    "A single neuron with binary cross-entropy",
    [
        md(
            """
            By the end of this notebook you will be able to:

            * compute the gradients of a sigmoid neuron's BCE loss by hand with the chain
              rule, and check them against autograd,
            * explain why $\\frac{\\partial L}{\\partial z}$ simplifies to $\\hat y - y$,
            * spot the float32 trap in a clamped BCE, and move from one example to a batch.
            """
        ),
        code(SETUP),
        md(
            """
            ## The neuron

            One input $x$ (a CGPA of 6.7), label $y = 0$ (not placed), weight $w = 1$,
            bias $b = 0$: $z = wx + b$, $\\hat y = \\sigma(z)$, and the binary cross-entropy
            $L = -[y \\log \\hat y + (1 - y)\\log(1 - \\hat y)]$. The arrows carry the local
            derivatives the chain rule multiplies:
            $\\frac{\\partial L}{\\partial w} = \\frac{\\partial L}{\\partial \\hat y} \\cdot
            \\frac{\\partial \\hat y}{\\partial z} \\cdot \\frac{\\partial z}{\\partial w}$.
            """
        ),
        code(NEURON_DIAGRAM, hide_source=True),
        code(
            """
            x = torch.tensor(6.7)  # input
            y = torch.tensor(0.0)  # label
            w = torch.tensor(1.0)  # weight
            b = torch.tensor(0.0)  # bias


            def binary_cross_entropy_loss(prediction, target):
                epsilon = 1e-8  # to keep log() away from 0
                prediction = torch.clamp(prediction, epsilon, 1 - epsilon)
                return -(target * torch.log(prediction) + (1 - target) * torch.log(1 - prediction))
            """
        ),
        md(
            """
            ## By hand

            Forward pass first. **Predict:** $\\sigma(6.7)$ is close to 1, but the label is
            0 — is the loss small or large?
            """
        ),
        code(
            """
            z = w * x + b
            y_pred = torch.sigmoid(z)
            loss = binary_cross_entropy_loss(y_pred, y)
            loss
            """
        ),
        code(
            """
            dloss_dy_pred = (y_pred - y) / (y_pred * (1 - y_pred))  # dL/dŷ
            dy_pred_dz = y_pred * (1 - y_pred)  # dŷ/dz, the sigmoid derivative
            dz_dw = x  # dz/dw
            dz_db = 1  # dz/db

            dL_dw = dloss_dy_pred * dy_pred_dz * dz_dw
            dL_db = dloss_dy_pred * dy_pred_dz * dz_db
            """
        ),
        code(
            """
            print(f"Manual Gradient of loss w.r.t weight (dw): {dL_dw:.4f}")
            print(f"Manual Gradient of loss w.r.t bias (db): {dL_db:.4f}")
            print(f"Manual Gradient of loss w.r.t weight (dw): {dL_dw}")
            print(f"Manual Gradient of loss w.r.t bias (db): {dL_db}")
            """
        ),
        md("`autograd_lab.neuron_gradients` is the same hand derivation, packaged:"),
        code(
            """
            g = autograd_lab.neuron_gradients(6.7, 0.0, w=1.0, b=0.0)
            print(g.loss, g.dL_dw, g.dL_db)
            print(g.dL_dw.item(), g.dL_db.item())
            """
        ),
        md(
            """
            ## With autograd

            Now only $w$ and $b$ are tracked: they are what training will change.
            **Predict** the `grad_fn` of `z`, `y_pred` and `loss`.
            """
        ),
        code(
            """
            w = torch.tensor(1.0, requires_grad=True)
            b = torch.tensor(0.0, requires_grad=True)
            w, b
            """
        ),
        code(
            """
            z = w * x + b
            z
            """
        ),
        code(
            """
            y_pred = torch.sigmoid(z)
            y_pred
            """
        ),
        code(
            """
            loss = binary_cross_entropy_loss(y_pred, y)
            loss
            """
        ),
        code(
            """
            print("z", z)
            print("y_pred", y_pred)
            print("loss", loss)
            """
        ),
        code(
            """
            loss.backward()
            print(w.grad)
            print(b.grad)
            """
        ),
        md(
            """
            Same four digits. At full float32 precision autograd gives `6.6917619705200195`
            and the hand formula `6.691762447357178`: the two compute in a different order,
            so they round differently in the last bit — they agree to about $10^{-7}$.
            """
        ),
        code(
            """
            print(w.grad.item(), dL_dw.item())
            print(torch.isclose(w.grad, dL_dw), torch.isclose(b.grad, dL_db))
            """
        ),
        md(
            """
            ## Why $\\frac{\\partial L}{\\partial z} = \\hat y - y$

            $\\frac{\\partial L}{\\partial \\hat y} = \\frac{\\hat y - y}{\\hat y(1-\\hat y)}$ and
            $\\frac{\\partial \\hat y}{\\partial z} = \\hat y(1 - \\hat y)$: the product cancels
            to $\\hat y - y$. So $\\frac{\\partial L}{\\partial b} = \\hat y - y$ and
            $\\frac{\\partial L}{\\partial w} = (\\hat y - y)\\,x$. **Predict** both.
            """
        ),
        code(
            """
            with torch.no_grad():
                print(y_pred - y)
                print((y_pred - y) * x)
            """
        ),
        md(
            """
            ## Torch's own loss: `BCEWithLogitsLoss`

            It takes the *logit* $z$ and fuses sigmoid and BCE, using $\\hat y - y$ directly —
            no division by a tiny $\\hat y(1-\\hat y)$, no clamp needed. **Predict** whether
            it matches.
            """
        ),
        code(
            """
            w = torch.tensor(1.0, requires_grad=True)
            b = torch.tensor(0.0, requires_grad=True)
            loss = torch.nn.BCEWithLogitsLoss()(w * x + b, y)
            loss.backward()
            print(loss)
            print(w.grad, b.grad)
            """
        ),
        md(
            """
            ## The float32 clamp trap

            The clamp keeps predictions in $[10^{-8}, 1 - 10^{-8}]$ — but in float32,
            $1 - 10^{-8}$ rounds to exactly 1. **Predict** the seed's loss for a *perfect*
            prediction $\\hat y = 1$, $y = 1$.
            """
        ),
        code("torch.tensor(1 - 1e-8)"),
        code("binary_cross_entropy_loss(torch.tensor(1.0), torch.tensor(1.0))"),
        md(
            """
            `log(1 - 1) = -inf` and `0 * -inf = nan`. The kit's `binary_cross_entropy` (like
            torch's) stays finite:
            """
        ),
        code(
            """
            print(autograd_lab.binary_cross_entropy(1.0, 1.0))
            print(torch.nn.functional.binary_cross_entropy(torch.tensor(1.0), torch.tensor(1.0)))
            """
        ),
        md(
            """
            ## A batch of three students

            Same neuron, three inputs, losses summed. **Predict:** which example contributes
            most to the loss?
            """
        ),
        code(
            """
            x = torch.tensor([6.7, 8.1, 9.0])
            y = torch.tensor([0.0, 1.0, 1.0])
            w = torch.tensor(1.0, requires_grad=True)
            b = torch.tensor(0.0, requires_grad=True)
            print(w)
            print(b)
            """
        ),
        code(
            """
            z = w * x + b
            z
            """
        ),
        code(
            """
            y_pred = torch.sigmoid(z)
            y_pred
            """
        ),
        code(
            """
            L = -(y * torch.log(y_pred) + (1 - y) * torch.log(1 - y_pred))
            L = torch.sum(L)
            L
            """
        ),
        code(
            """
            L.backward()
            print(w.grad)
            print(b.grad)
            """
        ),
        code(
            """
            g = autograd_lab.neuron_gradients([6.7, 8.1, 9.0], [0.0, 1.0, 1.0], reduction="sum")
            print(g.loss, g.dL_dw, g.dL_db)
            """
        ),
    ],
    """
    * A neuron's gradient is a product of three local derivatives:
      $\\frac{\\partial L}{\\partial \\hat y} \\cdot \\frac{\\partial \\hat y}{\\partial z}
      \\cdot \\frac{\\partial z}{\\partial w}$, and the first two cancel to $\\hat y - y$.
    * Hand formula and autograd agree to float32 precision (not always bit for bit).
    * In float32, `1 - 1e-8 == 1`: a clamped BCE can still give `nan`; prefer
      `BCEWithLogitsLoss` on logits.
    * With a batch and `reduction="sum"` the per-example gradients add up.
    """,
    [
        Question(
            "With the label changed to $y = 1$ (same $x = 6.7$, $w = 1$, $b = 0$), what is "
            "`b.grad`? Use $\\hat y - y$.",
            """
            w = torch.tensor(1.0, requires_grad=True)
            b = torch.tensor(0.0, requires_grad=True)
            p = torch.sigmoid(w * 6.7 + b)
            (-torch.log(p)).backward()
            print(round(b.grad.item(), 4))
            """,
            "-0.0012",
            "dL/db = y_pred - y = 0.99877 - 1 = -0.0012: the neuron is already almost right.",
        ),
        Question(
            "What does the seed's clamped BCE give for $\\hat y = 0$, $y = 0$ in float32?",
            """
            def binary_cross_entropy_loss(prediction, target):
                epsilon = 1e-8
                prediction = torch.clamp(prediction, epsilon, 1 - epsilon)
                return -(target * torch.log(prediction) + (1 - target) * torch.log(1 - prediction))
            print(binary_cross_entropy_loss(torch.tensor(0.0), torch.tensor(0.0)))
            """,
            "tensor(-0.)",
            "At the bottom the clamp works (1e-8 is representable), so log(1e-8) is finite, "
            "0 * log(1e-8) = -0 and log(1 - 1e-8) rounds to log(1) = 0: the loss is -0. "
            "Only the top end of the clamp is broken.",
        ),
        Question(
            "For the batch, what would `w.grad` be with a **mean** instead of a sum?",
            """
            x = torch.tensor([6.7, 8.1, 9.0])
            y = torch.tensor([0.0, 1.0, 1.0])
            w = torch.tensor(1.0, requires_grad=True)
            p = torch.sigmoid(w * x)
            (-(y * torch.log(p) + (1 - y) * torch.log(1 - p))).mean().backward()
            print(w.grad)
            """,
            "tensor(2.2294)",
            "The mean divides the summed gradient 6.6882 by 3.",
        ),
    ],
)

# --------------------------------------------------------------------------------------
# Lesson 05
# --------------------------------------------------------------------------------------

L05 = Lesson(
    "05_vectors",
    "Vectors and non-scalar outputs",
    [
        md(
            """
            By the end of this notebook you will be able to:

            * take the gradient of a scalar that depends on a whole vector,
            * explain why `backward()` on a vector output needs `gradient=`, and what that
              argument means.
            """
        ),
        code(SETUP),
        md(
            """
            ## A mean of squares

            $y = \\frac{1}{3}(x_1^2 + x_2^2 + x_3^2)$, so
            $\\frac{\\partial y}{\\partial x_i} = \\frac{2 x_i}{3}$.
            **Predict** `x.grad` for $x = [1, 2, 3]$.
            """
        ),
        code(
            """
            x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
            x
            """
        ),
        code(
            """
            y = (x**2).mean()
            y
            """
        ),
        code(
            """
            y.backward()
            x.grad
            """
        ),
        md("By hand, one variable per element:"),
        code(
            """
            d = autograd_lab.derive("(a**2 + b**2 + c**2) / 3", a=1.0, b=2.0, c=3.0)
            d.check()
            """
        ),
        md(
            """
            ## A vector output

            Without the `.mean()`, $y = x^2$ is a vector of three numbers. **Predict** what
            `y.backward()` does.
            """
        ),
        code(
            """
            x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
            y = x**2
            y
            """
        ),
        code("y.backward()", "raises-exception"),
        md(
            """
            `backward()` computes the gradient of **one number**. For a vector $y$ you say
            which combination of its elements you mean by passing weights $v$: torch then
            computes the gradient of $\\sum_i v_i y_i$ (a vector-Jacobian product). With
            $v = [1, 1, 1]$ that is the gradient of `y.sum()`: $2x$.
            """
        ),
        code(
            """
            y.backward(gradient=torch.ones_like(y))
            x.grad
            """
        ),
        md(
            """
            **Predict:** which $v$ gives back the gradient of the mean, `[0.6667, 1.3333, 2.0000]`?
            """
        ),
        code(
            """
            x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
            y = x**2
            y.backward(gradient=torch.full_like(y, 1 / 3))
            x.grad
            """
        ),
        md(
            """
            `trace_backward` accepts the same `gradient=` and shows it arrive at the first
            node:
            """
        ),
        code(
            """
            x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
            y = x**2
            for step in autograd_lab.trace_backward(y, gradient=torch.ones_like(y)):
                print(step.node, "in", step.grad_outputs, "out", step.grad_inputs)
            """
        ),
    ],
    """
    * A scalar output (`mean`, `sum`, a loss) needs no argument: `y.backward()`.
    * A vector output needs `gradient=v`: torch backpropagates $\\sum_i v_i y_i$.
    * `y.backward(gradient=torch.ones_like(y))` is the same as `y.sum().backward()`.
    """,
    [
        Question(
            "What is `x.grad` for `(x**3).sum()` at $x = [1, 2]$?",
            """
            x = torch.tensor([1.0, 2.0], requires_grad=True)
            (x**3).sum().backward()
            print(x.grad)
            """,
            "tensor([ 3., 12.])",
            "d/dx_i of sum x^3 = 3 x_i^2.",
        ),
        Question(
            "For `y = x**2` at $x = [1, 2, 3]$, what does "
            "`y.backward(gradient=torch.tensor([1.0, 0.0, 0.0]))` leave in `x.grad`?",
            """
            x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
            (x**2).backward(gradient=torch.tensor([1.0, 0.0, 0.0]))
            print(x.grad)
            """,
            "tensor([2., 0., 0.])",
            "Only y_1 = x_1^2 is weighted, so only x_1 gets a gradient: 2 x_1 = 2.",
        ),
        Question(
            "Does `y.backward()` work when `y` has shape `[1]` (one element, but a vector)?",
            """
            x = torch.tensor([2.0], requires_grad=True)
            (x**2).backward()
            print(x.grad)
            """,
            "tensor([4.])",
            "Yes: torch only needs a single element, so a one-element tensor works (as in "
            "lesson 3's y = x**2 + 3x + 1).",
        ),
    ],
)

# --------------------------------------------------------------------------------------
# Lesson 06
# --------------------------------------------------------------------------------------

L06 = Lesson(
    "06_gradient_accumulation",
    "Gradient accumulation",
    [
        md(
            """
            By the end of this notebook you will be able to:

            * predict `.grad` after several backward calls (it **adds up**),
            * reset it with `x.grad.zero_()` or `optimizer.zero_grad()`,
            * call `backward()` twice on purpose with `retain_graph=True`.
            """
        ),
        code(SETUP),
        md(
            """
            ## One backward call

            $y = x^3$, so $\\frac{dy}{dx} = 3x^2 = 12$ at $x = 2$.
            """
        ),
        code(
            """
            def dydx(x):
                return 3 * x**2

            dydx(2.0)
            """
        ),
        code(
            """
            x = torch.tensor(2.0, requires_grad=True)
            x
            """
        ),
        code(
            """
            y = x**3
            y
            """
        ),
        code(
            """
            y.backward()
            x.grad
            """
        ),
        md(
            """
            ## Five backward calls

            Each pass builds a fresh graph and calls `backward()`. **Predict** the five
            printed values.
            """
        ),
        code(
            """
            x = torch.tensor(2.0, requires_grad=True)

            for i in range(5):
                y = x**3
                y.backward()
                print(f"Gradient of X at {i} is {x.grad}")
            """
        ),
        md(
            """
            `backward()` **adds** to `.grad`; it never overwrites it. That is useful (several
            losses, or gradients summed over mini-batches) but in a training loop you must
            clear it. **Predict** the output now:
            """
        ),
        code(
            """
            x = torch.tensor(2.0, requires_grad=True)

            for i in range(5):
                y = x**3
                y.backward()
                print(f"Gradient of X at {i} is {x.grad}")
                x.grad.zero_()
            """
        ),
        md(
            """
            ## Backward twice through one graph

            $y = x^2$ at $x = 2$: one `backward()` gives 4. **Predict** what a second
            `y.backward()` on the *same* `y` does.
            """
        ),
        code(
            """
            x = torch.tensor(2.0, requires_grad=True)
            y = x**2
            y.backward()
            x.grad
            """
        ),
        code("y.backward()", "raises-exception"),
        md(
            """
            After `backward()` torch frees the values the graph saved (here, $x$ for
            $\\frac{d}{dx}x^2 = 2x$). Two ways to go again:

            1. re-run the forward pass, which builds a new graph (what a training loop does):
            """
        ),
        code(
            """
            y = x**2
            y
            """
        ),
        code(
            """
            y.backward()
            x.grad
            """
        ),
        md("2. or keep the first graph alive with `retain_graph=True`:"),
        code(
            """
            x = torch.tensor(2.0, requires_grad=True)
            y = x**2
            y.backward(retain_graph=True)
            y.backward()
            x.grad
            """
        ),
        md("Either way the gradients added up: 4 + 4 = 8. Clear it in place:"),
        code("x.grad.zero_()"),
        md(
            """
            ## Optimizers clear gradients for you

            `optimizer.zero_grad()` clears every parameter's `.grad`. By default it sets
            them to `None` (`set_to_none=True`, saving memory); `set_to_none=False` fills
            them with zeros instead. **Predict** both prints.
            """
        ),
        code(
            """
            x = torch.tensor(2.0, requires_grad=True)
            optimizer = torch.optim.SGD([x], lr=0.1)

            (x**3).backward()
            optimizer.zero_grad()
            print(x.grad)

            (x**3).backward()
            optimizer.zero_grad(set_to_none=False)
            print(x.grad)
            """
        ),
        code(
            """
            d = autograd_lab.derive("x**3", x=2.0)
            d.gradient
            """
        ),
        md(
            """
            ## Try it: watch `.grad` accumulate

            Choose how many backward calls and what happens between them (nothing, `zero_()`, or
            `set_to_none`). **Predict** the bar heights before you run.
            """
        ),
        widget("GradAccumulationLab", 'GradAccumulationLab("x**3", x=2.0)'),
    ],
    """
    * `.grad` accumulates: each `backward()` adds to it.
    * Clear it between steps: `x.grad.zero_()`, or `optimizer.zero_grad()` (sets `None`).
    * A graph can be backpropagated once; re-run the forward pass, or pass
      `retain_graph=True` to keep it.
    """,
    [
        Question(
            "$y = x^2$ at $x = 3$, `backward()` called in a loop three times with a fresh "
            "forward pass each time and no zeroing. What is `x.grad`?",
            """
            x = torch.tensor(3.0, requires_grad=True)
            for _ in range(3):
                (x**2).backward()
            print(x.grad)
            """,
            "tensor(18.)",
            "Each call adds 2x = 6: 6 + 6 + 6 = 18.",
        ),
        Question(
            "After `optimizer.zero_grad()` (default), what is `x.grad`, and what does one "
            "more backward of $x^3$ at 2 give?",
            """
            x = torch.tensor(2.0, requires_grad=True)
            opt = torch.optim.SGD([x], lr=0.1)
            (x**3).backward()
            opt.zero_grad()
            print(x.grad)
            (x**3).backward()
            print(x.grad)
            """,
            "None\ntensor(12.)",
            "set_to_none=True leaves None; the next backward starts a fresh .grad of 12.",
        ),
        Question(
            "Two different losses share `x`: `(x**2).backward()` then `(3*x).backward()` at "
            "$x = 1$. What is `x.grad`?",
            """
            x = torch.tensor(1.0, requires_grad=True)
            (x**2).backward()
            (3 * x).backward()
            print(x.grad)
            """,
            "tensor(5.)",
            "2x + 3 = 5: accumulation is how gradients of several losses are summed.",
        ),
    ],
)

# --------------------------------------------------------------------------------------
# Lesson 07
# --------------------------------------------------------------------------------------

L07 = Lesson(
    "07_turning_gradients_off",
    "Turning gradients off",
    [
        md(
            """
            By the end of this notebook you will be able to:

            * stop gradient tracking three ways: `requires_grad_(False)`, `detach()` and
              `torch.no_grad()`,
            * read `requires_grad`, `is_leaf` and `grad_fn` to see what each one did,
            * choose the right one (inference, logging, parameter updates).
            """
        ),
        code(SETUP),
        md(
            """
            A tracked tensor, as before:
            """
        ),
        code(
            """
            x = torch.tensor(2.0, requires_grad=True)
            y = x**2
            y.backward()
            print(x, y)
            x.grad
            """
        ),
        md(
            """
            A small helper shows the three attributes that matter here:
            """
        ),
        code(
            """
            def describe(t):
                grad_fn = None if t.grad_fn is None else type(t.grad_fn).__name__
                print(f"requires_grad={t.requires_grad}, is_leaf={t.is_leaf}, grad_fn={grad_fn}")

            describe(x)
            describe(y)
            """
        ),
        md(
            """
            ## Option 1: `requires_grad_(False)`

            The trailing `_` means *in place*: `x` itself stops being tracked. **Predict**
            what `y.backward()` does afterwards.
            """
        ),
        code("x.requires_grad_(False)"),
        code(
            """
            describe(x)
            x
            """
        ),
        code(
            """
            y = x**2
            describe(y)
            y
            """
        ),
        code("y.backward()", "raises-exception"),
        md(
            """
            ## Option 2: `detach()`

            `x.detach()` is a **new tensor** sharing `x`'s storage, cut out of the graph.
            `x` keeps being tracked. **Predict** which of the two backward calls fails.
            """
        ),
        code(
            """
            x = torch.tensor(2.0, requires_grad=True)
            x
            """
        ),
        code(
            """
            z = x.detach()
            describe(z)
            print("same storage:", z.data_ptr() == x.data_ptr())
            z
            """
        ),
        code(
            """
            y = x**2
            y
            """
        ),
        code(
            """
            y1 = z**2
            y1
            """
        ),
        code(
            """
            y.backward()
            x.grad
            """
        ),
        code("y1.backward()", "raises-exception"),
        md(
            """
            ## Option 3: `torch.no_grad()`

            Inside the `with` block nothing is recorded, but `x` is untouched and tracked
            again afterwards. **Predict** what `print(y)` shows.
            """
        ),
        code(
            """
            x = torch.tensor(2.0, requires_grad=True)

            with torch.no_grad():
                y = x**3
                print(y)

            describe(x)
            describe(y)
            """
        ),
        code("y.backward()", "raises-exception"),
        md(
            """
            ## Which one when?

            | situation | use | why |
            |---|---|---|
            | predictions after training, evaluation loops | `with torch.no_grad():` | no graph is built: faster, less memory; parameters stay trainable |
            | updating parameters by hand (`w -= lr * w.grad`) | `with torch.no_grad():` | the update itself must not become part of the graph |
            | logging, plotting, converting to NumPy, a fixed target | `t.detach()` | one value cut out of the graph; the original keeps training |
            | freezing a layer for good (fine-tuning) | `p.requires_grad_(False)` | the parameter itself stops being tracked |

            `detach()` shares storage: changing the detached tensor in place changes the
            original too.
            """
        ),
        md(
            """
            ## Try it: the options side by side

            Plain, `requires_grad_(False)`, `detach()` and `no_grad()` next to each other: **predict**
            each column's `requires_grad`, `is_leaf` and `grad_fn`, and what `backward()` does.
            """
        ),
        widget("NoGradExplorer", "NoGradExplorer()"),
    ],
    """
    * `requires_grad_(False)` changes the tensor itself; `detach()` makes a new, untracked
      view of the same data; `torch.no_grad()` stops recording for a block of code.
    * Results with `grad_fn=None` and `requires_grad=False` cannot be backpropagated:
      `element 0 of tensors does not require grad and does not have a grad_fn`.
    * Use `no_grad()` for inference and manual updates, `detach()` for values you take
      out of the graph.
    """,
    [
        Question(
            "Inside `torch.no_grad()`, what is `(x * 2).requires_grad` when `x` requires "
            "grad? And right after the block?",
            """
            x = torch.tensor(1.0, requires_grad=True)
            with torch.no_grad():
                print((x * 2).requires_grad)
            print((x * 2).requires_grad)
            """,
            "False\nTrue",
            "no_grad only affects operations run inside the block.",
        ),
        Question(
            "`z = x.detach()`, then `z.add_(1)`. What is `x` now?",
            """
            x = torch.tensor(2.0, requires_grad=True)
            z = x.detach()
            z.add_(1)
            print(x)
            """,
            "tensor(3., requires_grad=True)",
            "detach() shares storage, so the in-place edit is visible through x.",
        ),
        Question(
            "Is a detached tensor a leaf?",
            """
            x = torch.tensor(2.0, requires_grad=True)
            print((x**2).detach().is_leaf)
            """,
            "True",
            "It has no grad_fn, so it is a leaf (one that tracks nothing).",
        ),
    ],
)

# --------------------------------------------------------------------------------------
# Lesson 08
# --------------------------------------------------------------------------------------

L08 = Lesson(
    "08_training_linear_model",
    "Training a linear model",
    [
        md(
            """
            By the end of this notebook you will be able to:

            * write the training loop — forward, loss, backward, update, zero — by hand,
            * get the same run from `autograd_lab.train_linear` and from `torch.optim.SGD`,
              and explain why SGD's last printed digit can differ,
            * read a loss curve and recognise a learning rate that is too large.
            """
        ),
        code(SETUP),
        md(
            """
            ## Data and model

            Four points on the line $y = 2x + 1$. The model $\\hat y = wx + b$ starts at
            $w = b = 0$ and should learn $w \\approx 2$, $b \\approx 1$.
            """
        ),
        code(
            """
            x = torch.tensor([1.0, 2.0, 3.0, 4.0])
            y = torch.tensor([3.0, 5.0, 7.0, 9.0])  # y = 2x + 1

            w = torch.tensor(0.0, requires_grad=True)  # weight
            b = torch.tensor(0.0, requires_grad=True)  # bias


            def model(x):
                return w * x + b


            def mse(y_pred, y_true):
                return ((y_pred - y_true) ** 2).mean()
            """
        ),
        md(
            """
            ## The loop by hand

            Forward, loss, `backward()`, update under `torch.no_grad()` (the update must not
            be recorded), then zero the gradients (lesson 6). **Predict** epoch 1: the first
            loss is the mean of $3^2, 5^2, 7^2, 9^2$.
            """
        ),
        code(
            """
            learning_rate = 0.1
            manual = []

            for epoch in range(10):
                y_pred = model(x)
                loss = mse(y_pred, y)

                loss.backward()  # dloss/dw and dloss/db

                with torch.no_grad():
                    w -= learning_rate * w.grad
                    b -= learning_rate * b.grad

                w.grad.zero_()
                b.grad.zero_()

                manual.append((w.item(), b.item(), loss.item()))
                print(f"Epoch {epoch+1}: w={w.item():.4f}, b={b.item():.4f}, loss={loss.item():.4f}")
            """
        ),
        md(
            """
            ## The same run with `autograd_lab.train_linear`

            It runs exactly this loop (float32, same update) and returns one record per
            epoch. **Predict:** identical lines?
            """
        ),
        code(
            """
            records = autograd_lab.train_linear(x, y, lr=0.1, epochs=10)
            for record in records:
                print(record)
            """
        ),
        code("[(r.w, r.b, r.loss) for r in records] == manual"),
        md(
            """
            ## The same run with `torch.optim.SGD`

            An optimizer does the update and the zeroing for you.
            """
        ),
        code(
            """
            w = torch.tensor(0.0, requires_grad=True)
            b = torch.tensor(0.0, requires_grad=True)
            optimizer = torch.optim.SGD([w, b], lr=0.1)
            with_sgd = []

            for epoch in range(10):
                loss = mse(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                with_sgd.append((w.item(), b.item(), loss.item()))
                print(f"Epoch {epoch+1}: w={w.item():.4f}, b={b.item():.4f}, loss={loss.item():.4f}")
            """
        ),
        md(
            """
            Look at epoch 3 (SGD `loss=8.2743`, by hand `8.2744`) and epoch 5 (SGD
            `w=2.3670`, by hand `2.3671`).
            **Predict:** how far apart are the two runs really?
            """
        ),
        code(
            """
            pairs = zip(manual, with_sgd, strict=True)
            largest = max(abs(a - s) for m, o in pairs for a, s in zip(m, o, strict=True))
            print(f"largest difference: {largest:.1e}", largest < 1e-5)
            """
        ),
        md(
            """
            Less than $10^{-5}$: the same algorithm, rounded differently. The hand loop
            computes `learning_rate * w.grad`, rounds it to float32, then subtracts (two
            roundings). `optimizer.step()` calls `w.add_(w.grad, alpha=-0.1)`, which does
            the multiply and the subtraction in one fused step (one rounding). Already after
            epoch 2 the two $w$ differ in their last bits, and the difference is carried along. The seed's epoch-3 loss is $8.27435\\ldots$ — almost
            exactly halfway between `8.2743` and `8.2744` — so that tiny difference decides
            which way the fourth decimal rounds:
            """
        ),
        code(
            """
            print("w after epoch 2:", manual[1][0], with_sgd[1][0])
            print("loss at epoch 3:", manual[2][2], with_sgd[2][2])
            """
        ),
        md(
            """
            ## The loss curve

            **Predict** the shape: the printed $w$ overshoots 2 and swings back each epoch.
            """
        ),
        code(
            """
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(6, 3.5))
            ax.plot([r.epoch for r in records], [r.loss for r in records], marker="o")
            ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_ylabel("MSE loss (log scale)")
            ax.set_title("learning rate 0.1")
            plt.show()
            """
        ),
        md(
            """
            ## A learning rate that is too large

            Each step moves $w$ by `lr * w.grad`. Too large a step overshoots the minimum by
            more than it started from, and the loss grows. **Predict** what `lr=0.15`
            does over 10 epochs.
            """
        ),
        code(
            """
            too_big = autograd_lab.train_linear(x, y, lr=0.15, epochs=10)
            for record in too_big:
                print(record)
            """
        ),
        code(
            """
            fig, ax = plt.subplots(figsize=(6, 3.5))
            ax.plot([r.epoch for r in records], [r.loss for r in records], marker="o",
                    label="lr = 0.1 (converges)")
            ax.plot([r.epoch for r in too_big], [r.loss for r in too_big], marker="s",
                    label="lr = 0.15 (diverges)")
            ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_ylabel("MSE loss (log scale)")
            ax.legend()
            plt.show()
            """
        ),
        md(
            """
            ## Try it: choose the learning rate

            Step or run the training with your own learning rate and number of epochs. **Predict**
            where between 0.1 and 0.15 the loss stops shrinking.
            """
        ),
        widget("TrainingExplorer", "TrainingExplorer()"),
    ],
    """
    * A training step: forward, loss, `backward()`, update under `no_grad()`, zero `.grad`.
    * `train_linear` reproduces the hand loop digit for digit; `torch.optim.SGD` agrees to
      better than $10^{-5}$ but rounds differently, so a printed last digit can differ.
    * Too large a learning rate overshoots further every step: the loss explodes.
    """,
    [
        Question(
            "What are $w$, $b$ and the loss after **one** epoch with `lr=0.01`?",
            """
            for r in autograd_lab.train_linear([1.0, 2.0, 3.0, 4.0], [3.0, 5.0, 7.0, 9.0],
                                               lr=0.01, epochs=1):
                print(r)
            """,
            "Epoch 1: w=0.3500, b=0.1200, loss=41.0000",
            "The gradient at w = b = 0 is (-35, -12); one step of 0.01 moves to (0.35, 0.12). "
            "The loss printed is the one before the update, so it is 41 for any lr.",
        ),
        Question(
            "A loop forgets `w.grad.zero_()` and `b.grad.zero_()`. With lr=0.1, what is "
            "$w$ after epoch 2 (the correct loop gives 1.15)?",
            """
            x = torch.tensor([1.0, 2.0, 3.0, 4.0])
            y = 2 * x + 1
            w = torch.tensor(0.0, requires_grad=True)
            b = torch.tensor(0.0, requires_grad=True)
            for epoch in range(2):
                ((w * x + b - y) ** 2).mean().backward()
                with torch.no_grad():
                    w -= 0.1 * w.grad
                    b -= 0.1 * b.grad
            print(round(w.item(), 4))
            """,
            "4.65",
            "Epoch 2's true gradient is +23.5 (w = 3.5 overshot 2), but w.grad still holds "
            "epoch 1's -35, so the step uses -35 + 23.5 = -11.5 and w keeps climbing to 4.65 "
            "instead of coming back to 1.15.",
        ),
        Question(
            "Which ends with the lower loss after 10 epochs: `lr=0.05` or `lr=0.1`?",
            """
            data = ([1.0, 2.0, 3.0, 4.0], [3.0, 5.0, 7.0, 9.0])
            slow = autograd_lab.train_linear(*data, lr=0.05, epochs=10)[-1]
            fast = autograd_lab.train_linear(*data, lr=0.1, epochs=10)[-1]
            print(round(slow.loss, 4), round(fast.loss, 4))
            """,
            "0.0105 0.0383",
            "The smaller rate wins here: 0.1 is close to the largest stable step for this data "
            "(about 0.12), so it overshoots and swings back and forth (w = 3.5, 1.15, 2.72, ...), "
            "while 0.05 approaches the minimum more directly. Bigger is not always faster.",
        ),
    ],
)

LESSONS: list[Lesson] = [L01, L02, L03, L04, L05, L06, L07, L08]


# --------------------------------------------------------------------------------------
# Builder
# --------------------------------------------------------------------------------------

def _questions_markdown(lesson: Lesson) -> str:
    lines = [
        "## Predict, then run",
        "",
        "Write your prediction down first, then paste the code into a new cell and run it.",
        "",
    ]
    for i, q in enumerate(lesson.questions, 1):
        lines += [f"{i}. {q.prompt}", "", "   ```python"]
        lines += [f"   {line}" if line else "" for line in _text(q.code).splitlines()]
        lines += ["   ```", ""]
    return "\n".join(lines).rstrip()


def cells_for(lesson: Lesson) -> list[Cell]:
    """All cells of a lesson: title, body, summary, questions."""
    title = md(f"# {lesson.number} · {lesson.title}")
    summary = md("## Summary\n\n" + _text(lesson.summary))
    questions = Cell("markdown", _questions_markdown(lesson)) if lesson.questions else None
    cells = [title, *lesson.cells, summary]
    if questions is not None:
        cells.append(questions)
    return cells


def build_notebook(lesson: Lesson) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                       "language": "python"},
        "language_info": {"name": "python"},
    }
    seen: set[str] = set()
    for index, cell in enumerate(cells_for(lesson)):
        cell_id = cell.id or f"l{lesson.number}-{index:02d}"
        if cell_id in seen:
            raise ValueError(f"{lesson.name}: duplicate cell id {cell_id!r}")
        seen.add(cell_id)
        if cell.kind == "markdown":
            node = nbformat.v4.new_markdown_cell(cell.source)
        else:
            node = nbformat.v4.new_code_cell(cell.source)
            if cell.tags:
                node.metadata["tags"] = list(cell.tags)
            if cell.hide_source:
                node.metadata["jupyter"] = {"source_hidden": True}
        node.id = cell_id
        nb.cells.append(node)
    return nb


def teacher_note(lesson: Lesson) -> str:
    lines = [
        f"# Teacher note — {lesson.number} · {lesson.title}",
        "",
        f"Answers to the \"predict, then run\" questions of `notebooks/{lesson.name}.ipynb`.",
        "Generated by `python -m tools.lessons` from `tools/lessons.py`; the expected outputs",
        "are checked by running the code (`tests/test_notebooks.py`). Not copied to students.",
        "",
    ]
    for i, q in enumerate(lesson.questions, 1):
        lines += [f"## {i}. {q.prompt}", "", "```python", _text(q.code), "```", "",
                  "Prints:", "", "```text", q.expected, "```", "", q.why, ""]
    return "\n".join(lines)


def sources(nb: nbformat.NotebookNode) -> list[tuple[str, str, str, list[str]]]:
    """What the builder controls: (id, type, source, tags) per cell — not outputs."""
    return [
        (c.get("id", ""), c.cell_type, c.source, list(c.get("metadata", {}).get("tags", [])))
        for c in nb.cells
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="report notebooks/notes that differ from tools/lessons.py; write nothing")
    args = parser.parse_args(argv)
    stale = []
    TEACHER_NOTES.mkdir(parents=True, exist_ok=True)
    for lesson in LESSONS:
        path = NOTEBOOKS / f"{lesson.name}.ipynb"
        note = TEACHER_NOTES / f"{lesson.name}.md"
        nb = build_notebook(lesson)
        text = teacher_note(lesson)
        if args.check:
            current = nbformat.read(path, as_version=4) if path.exists() else None
            if current is None or sources(current) != sources(nb):
                stale.append(str(path.relative_to(ROOT)))
            if not note.exists() or note.read_text(encoding="utf-8") != text:
                stale.append(str(note.relative_to(ROOT)))
            continue
        current = nbformat.read(path, as_version=4) if path.exists() else None
        if current is None or sources(current) != sources(nb):
            # Changed cells: write them without outputs; `make notebooks` executes them.
            nbformat.write(nb, path)
            print(f"wrote {path.relative_to(ROOT)} ({len(nb.cells)} cells): run make notebooks")
        if not note.exists() or note.read_text(encoding="utf-8") != text:
            note.write_text(text, encoding="utf-8")
            print(f"wrote {note.relative_to(ROOT)}")
    if stale:
        print("out of date (run python -m tools.lessons, then make notebooks):", *stale,
              sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
