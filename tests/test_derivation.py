"""derive(): seed figures, steps, graph, torch / finite-difference agreement, check table."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

import autograd_lab
from autograd_lab import (
    CheckTable,
    Derivation,
    DerivationStep,
    GradientMismatch,
    Graph,
    derive,
    numerical_derivative,
)
from autograd_lab.functions import FUNCTIONS


def _torch_grad(expression_fn, **values: float) -> dict[str, float]:
    """Independent reference: torch autograd in float64 on hand-written torch code."""
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in values.items()}
    out = expression_fn(**leaves)
    grads = torch.autograd.grad(out, list(leaves.values()), allow_unused=True)
    return {k: 0.0 if g is None else g.item() for k, g in zip(leaves, grads, strict=True)}


# ------------------------------------------------------------------ seed figures
@pytest.mark.parametrize("x", [2, 3, 4])
def test_sin_x_squared_matches_the_seed_formula_bit_for_bit(x: int) -> None:
    seed = 2 * x * math.cos(x**2)  # the seeds' dz_dx
    assert derive("sin(x**2)", x=x).gradient["x"] == seed
    assert derive("sin(x**2)", x=float(x)).gradient["x"] == seed


def test_seed_figures() -> None:
    assert derive("sin(x**2)", x=2).gradient == {"x": -2.6145744834544478}
    assert derive("sin(x**2)", x=3).gradient == {"x": -5.466781571308061}
    assert derive("sin(x**2)", x=4).gradient == {"x": -7.661275842587077}
    assert f"{derive('sin(x**3)', x=2).gradient['x']:.4f}" == "-1.7460"
    chain = derive("2*y + y**2", y="x**2", x=2.0)
    assert (chain.value, chain.gradient) == (24.0, {"x": 40.0})
    poly = derive("x**2 + 3*x + 1", x=2)
    assert (poly.value, poly.gradient) == (11.0, {"x": 7.0})


def test_seed_figures_agree_with_torch() -> None:
    got = derive("sin(x**3)", x=2.0).gradient
    assert got["x"] == pytest.approx(_torch_grad(lambda x: torch.sin(x**3), x=2.0)["x"],
                                     rel=1e-12)
    ref = _torch_grad(lambda x: 2 * x**2 + (x**2) ** 2, x=2.0)
    assert derive("2*y + y**2", y="x**2", x=2.0).gradient == pytest.approx(ref, rel=1e-12)


# ------------------------------------------------------------------------ steps
def test_steps_for_sin_x_squared() -> None:
    d = derive("sin(x**2)", x=3)
    assert isinstance(d, Derivation)
    assert all(isinstance(s, DerivationStep) for s in d.steps)
    assert [s.kind for s in d.steps] == ["forward", "forward", "backward", "backward"]
    v1, z, back_z, back_v1 = d.steps
    assert (v1.node, v1.formula, v1.result) == ("v1 = x**2", "x**2", 9.0)
    assert (v1.local, v1.upstream, v1.input_id) == (None, None, None)
    assert (z.node, z.result) == ("z = sin(v1)", math.sin(9.0))
    assert back_z.formula == "dz/dv1 = cos(v1)"
    assert (back_z.upstream, back_z.local, back_z.result) == (1.0, math.cos(9.0), math.cos(9.0))
    assert back_v1.node == "v1 = x**2" and back_v1.local == 6.0
    assert back_v1.upstream == math.cos(9.0)
    assert back_v1.result == d.gradient["x"]
    assert back_v1.formula.startswith("dz/dx = dz/dv1 ·")
    assert (back_z.local_formula, back_v1.local_formula) == ("dz/dv1 = cos(v1)", "dv1/dx = 2*x")
    assert v1.local_formula is None
    graph = d.graph()
    ids = {node.label: node.id for node in graph.nodes}
    assert (back_z.node_id, back_z.input_id) == (ids["z = sin(v1)"], ids["v1 = x**2"])
    assert (back_v1.node_id, back_v1.input_id) == (ids["v1 = x**2"], ids["x = 3"])
    assert v1.node_id == ids["v1 = x**2"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        v1.result = 0.0  # type: ignore[misc]


def test_reaching_a_node_twice_accumulates() -> None:
    d = derive("2*y + y**2", y="x**2", x=2.0)
    assert [s.node for s in d.forward_steps] == ["y = x**2", "v1 = 2*y", "v2 = y**2",
                                                 "z = v1 + v2"]
    to_y = [s for s in d.backward_steps if s.formula.startswith("dz/dy")]
    assert len(to_y) == 2
    first, second = to_y
    assert "+=" not in first.formula and "+=" in second.formula
    assert first.result == first.upstream * first.local
    assert second.result == first.result + second.upstream * second.local == 10.0
    # every backward step is upstream * local, or the running total
    for step in d.backward_steps:
        assert step.upstream is not None and step.local is not None


def test_one_backward_step_per_edge_in_reverse_topological_order() -> None:
    d = derive("x*x*y + sin(y)", x=1.5, y=0.5)
    graph = d.graph()
    edges = [(s.input_id, s.node_id) for s in d.backward_steps]
    assert sorted(edges) == sorted(graph.edges)
    order = [s.node_id for s in d.backward_steps]
    assert order == sorted(order, reverse=True)
    forward_ids = [s.node_id for s in d.forward_steps]
    assert forward_ids == sorted(forward_ids)
    assert len(d.forward_steps) == sum(node.kind != "leaf" for node in graph.nodes)


def test_graph_contract() -> None:
    d = derive("sin(x**2)", x=3)
    graph = d.graph()
    assert isinstance(graph, Graph)
    kinds = [(n.kind, n.label) for n in graph.nodes]
    assert kinds == [("leaf", "x = 3"), ("op", "v1 = x**2"), ("output", "z = sin(v1)")]
    x, v1, z = graph.nodes
    assert (x.value, x.grad) == (3.0, d.gradient["x"])
    assert (v1.value, v1.grad) == (9.0, math.cos(9.0))
    assert (z.value, z.grad) == (d.value, 1.0)
    assert graph.edges == [(x.id, v1.id), (v1.id, z.id)]


def test_intermediate_is_its_own_node_and_constants_are_not_nodes() -> None:
    d = derive("2*pi*y + e", y="x**2", x=2.0)
    labels = [n.label for n in d.graph().nodes]
    assert "y = x**2" in labels
    assert not any(label.startswith(("pi", "e ", "2 ")) for label in labels)
    assert d.value == pytest.approx(2 * math.pi * 4 + math.e, rel=1e-15)
    assert d.gradient["x"] == pytest.approx(2 * math.pi * 2 * 2, rel=1e-15)


def test_names_avoid_the_learners_names() -> None:
    d = derive("z*v1 + v2", z=2.0, v1=3.0, v2=4.0)
    assert d.output_name == "out"
    assert [s.node for s in d.forward_steps] == ["v3 = z*v1", "out = v3 + v2"]
    assert d.backward_steps[0].formula == "dout/dv3 = 1"


def test_unused_variable_has_zero_gradient_and_expression_without_variables() -> None:
    d = derive("x**2", x=2.0, w=3.0)
    assert d.gradient == {"x": 4.0, "w": 0.0}
    assert d.autograd() == {"x": 4.0, "w": 0.0}
    constant = derive("2 + 3")
    assert (constant.value, constant.gradient, constant.autograd()) == (5.0, {}, {})


def test_expression_that_is_just_a_variable() -> None:
    d = derive("x", x=2.0)
    assert (d.value, d.gradient) == (2.0, {"x": 1.0})
    assert [s.formula for s in d.backward_steps] == ["dz/dx = 1"]
    alias = derive("y", y="x", x=5.0)
    assert alias.gradient == {"x": 1.0}


def test_labels_keep_python_precedence() -> None:
    d = derive("(-2)**3*x + x**-2 + -x**2 + (x + 1)/(2*x) - (1 - 2)*x + x*(2*3)", x=3.0)
    labels = [s.node for s in d.forward_steps]
    for label in ("v1 = (-2)**3*x", "v2 = x**-2", "v4 = x**2", "v5 = -v4",
                  "v7 = x + 1", "v8 = 2*x", "v9 = v7/v8", "v11 = (1 - 2)*x", "v13 = x*(2*3)"):
        assert label in labels
    # each label reads back (through derive itself) to the node's value
    values = {"x": 3.0}
    for node in d.graph().nodes:
        name, rhs = node.label.split(" = ", 1)
        if node.kind != "leaf":
            assert derive(rhs, **values).value == node.value
            values[name] = node.value


# ----------------------------------------------------------- torch and numbers
@pytest.mark.parametrize(
    ("expression", "reference", "values"),
    [
        ("sin(x**2)", lambda x: torch.sin(x**2), {"x": 3.0}),
        ("exp(sin(x**2))", lambda x: torch.exp(torch.sin(x**2)), {"x": 3.0}),
        ("x*y + y/x - x**y", lambda x, y: x * y + y / x - x**y, {"x": 1.7, "y": 0.4}),
        ("sigmoid(w*x + b)", lambda w, x, b: torch.sigmoid(w * x + b),
         {"w": 1.0, "x": 6.7, "b": 0.0}),
        ("log(sqrt(x) + tanh(x)) - tan(x)/cos(x)",
         lambda x: torch.log(torch.sqrt(x) + torch.tanh(x)) - torch.tan(x) / torch.cos(x),
         {"x": 0.8}),
        ("relu(x - 1) + abs(x - 3) + 2**x + e**x",
         lambda x: torch.relu(x - 1) + torch.abs(x - 3) + 2**x + torch.exp(x), {"x": 2.5}),
    ],
)
def test_manual_matches_independent_torch(expression, reference, values) -> None:
    d = derive(expression, **values)
    ref = _torch_grad(reference, **values)
    for name, value in ref.items():
        assert d.gradient[name] == pytest.approx(value, rel=1e-12, abs=1e-15)
        assert d.autograd()[name] == pytest.approx(value, rel=1e-12, abs=1e-15)
        assert d.numerical()[name] == pytest.approx(value, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize(("name", "expression"), [("relu", "relu(x)"), ("abs", "abs(x)"),
                                                  ("relu", "relu(x - 1)"),
                                                  ("abs", "abs(2*x - 2)")])
def test_kinks_follow_torch(name: str, expression: str) -> None:
    x0 = 0.0 if expression.endswith("(x)") else 1.0
    torch_fn = FUNCTIONS[name].torch
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    inner = x if x0 == 0.0 else (x - 1 if name == "relu" else 2 * x - 2)
    (torch_grad,) = torch.autograd.grad(torch_fn(inner), [x])
    d = derive(expression, x=x0)
    assert d.gradient["x"] == torch_grad.item() == 0.0
    table = d.check()
    assert table.rows[0].numerical == "n/a" and table.rows[0].numerical_ok is None
    assert "n/a" in repr(table)


def test_kink_not_straddled_is_checked_numerically() -> None:
    table = derive("relu(x) + abs(y)", x=0.5, y=-2.0).check()
    assert all(row.numerical != "n/a" and row.numerical_ok for row in table.rows)
    # a kink the variable does not move is not a reason for n/a
    table = derive("x*relu(y)", x=2.0, y=0.0).check()
    by_name = {row.variable: row for row in table.rows}
    assert by_name["x"].numerical_ok and by_name["y"].numerical == "n/a"


def test_to_torch_shows_real_grad_fns() -> None:
    out, leaves = derive("sin(x**2)", x=3).to_torch()
    assert type(out.grad_fn).__name__ == "SinBackward0"
    assert type(out.grad_fn.next_functions[0][0]).__name__ == "PowBackward0"
    assert out.dtype == torch.float32 and set(leaves) == {"x"}
    assert leaves["x"].requires_grad and leaves["x"].is_leaf
    out.backward()
    assert leaves["x"].grad.item() == pytest.approx(-5.466781571308061, rel=1e-6)
    out64, leaves64 = derive("x*y + y", x=1.0, y=2.0).to_torch(torch.float64)
    assert out64.dtype == torch.float64
    assert type(out64.grad_fn).__name__ == "AddBackward0"
    assert set(leaves64) == {"x", "y"}


def test_numerical_is_a_central_difference() -> None:
    d = derive("x**3 + y", x=2.0, y=1.0)
    h = 1e-3
    num = d.numerical(h=h)
    # (x+h)^3 - (x-h)^3 = 6x^2 h + 2h^3  ->  3x^2 + h^2 exactly in real numbers
    assert num["x"] == pytest.approx(12.0 + h**2, rel=1e-9)
    assert num["y"] == pytest.approx(1.0, rel=1e-9)
    near_edge = derive("sqrt(x)", x=1e-7).numerical()
    assert math.isnan(near_edge["x"])


def test_numerical_derivative() -> None:
    assert numerical_derivative(math.sin, 1.0) == pytest.approx(math.cos(1.0), abs=1e-9)
    h = 0.1
    expected = ((2.0 + h) ** 3 - (2.0 - h) ** 3) / (2 * h)
    assert numerical_derivative(lambda t: t**3, 2.0, h=h) == pytest.approx(expected, rel=1e-12)
    assert isinstance(numerical_derivative(lambda t: torch.tensor(t) ** 2, 1), float)
    with pytest.raises(ValueError, match="positive"):
        numerical_derivative(math.sin, 1.0, h=0.0)


# ----------------------------------------------------------------- check table
def test_check_table_reads_in_one_glance() -> None:
    table = derive("sin(x**2) + x*y", x=3.0, y=-1.5).check()
    assert isinstance(table, CheckTable) and table.ok
    assert [row.variable for row in table.rows] == ["x", "y"]
    for row in table.rows:
        assert row.abs_diff == abs(row.manual - row.autograd)
        assert row.numerical_ok is True
        assert row.verdict in ("exact", "close")
    text = repr(table)
    assert text == str(table)
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["variable", "manual", "autograd", "numerical"]
    assert lines[-1].startswith("OK: 2/2 agree with autograd")
    assert "0x" not in text


def test_check_raises_gradient_mismatch_with_the_table(monkeypatch) -> None:
    wrong = dataclasses.replace(FUNCTIONS["sin"], derivative=math.sin)  # a classic slip
    monkeypatch.setitem(FUNCTIONS, "sin", wrong)
    d = derive("sin(x**2)", x=3.0)
    with pytest.raises(GradientMismatch) as info:
        d.check()
    assert isinstance(info.value, AssertionError)
    table = info.value.table
    assert isinstance(table, CheckTable) and not table.ok
    (row,) = table.rows
    assert row.verdict == "MISMATCH"
    assert row.numerical_ok is True  # the finite difference sides with autograd
    assert abs(row.numerical - row.manual) > 1
    assert "MISMATCH" in str(info.value) and "x" in str(info.value)


def test_check_tolerances() -> None:
    d = derive("sigmoid(x)*tanh(x)/tan(x)", x=0.3)
    table = d.check(rtol=0, atol=1e-12)
    assert table.max_diff <= 1e-12


def test_public_api_is_exported() -> None:
    for name in ("derive", "Derivation", "DerivationStep", "CheckTable",
                 "numerical_derivative", "ExpressionError", "DerivationError",
                 "GradientMismatch"):
        assert getattr(autograd_lab, name) is not None


def test_repr_is_short_and_deterministic() -> None:
    d = derive("sin(x**2)", x=3)
    assert repr(d) == ("Derivation('sin(x**2)', x=3.0): value=0.4121184852417566, "
                       "gradient={'x': -5.466781571308061}")
    text = str(d)
    assert "dz/dv1 = cos(v1)" in text and "v1 = x**2" in text


def test_check_table_says_why_a_finite_difference_is_missing() -> None:
    table = derive("relu(x) + sqrt(y)", x=0.0, y=1e-7).check()
    by_name = {row.variable: row for row in table.rows}
    assert "relu kink" in by_name["x"].note and "leaves the domain" in by_name["y"].note
    assert by_name["y"].manual == pytest.approx(1 / (2 * math.sqrt(1e-7)), rel=1e-15)
    assert "x: no finite difference" in str(table)


def test_docstring_examples() -> None:
    import doctest

    import autograd_lab.derivation
    import autograd_lab.numerical

    for module in (autograd_lab.derivation, autograd_lab.numerical):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0


def test_to_torch_reuses_given_leaves_so_grad_accumulates() -> None:
    """One leaf x fed to two forward passes: x.grad = 2 · dz/dx (torch accumulates)."""
    x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    d = derive("sin(x**2)", x=3.0)
    for _ in range(2):
        out, leaves = d.to_torch(torch.float64, leaves={"x": x})
        assert leaves["x"] is x
        out.backward()
    assert x.grad.item() == pytest.approx(2 * 2 * 3.0 * math.cos(9.0), rel=1e-12)


def test_to_torch_rejects_a_tensor_for_an_unknown_name() -> None:
    with pytest.raises(ValueError, match="not a variable"):
        derive("sin(x)", x=1.0).to_torch(leaves={"y": torch.tensor(1.0)})
