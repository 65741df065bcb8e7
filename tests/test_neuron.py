"""neuron_gradients: the seeds' manual float32 figures and agreement with torch autograd."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lab import NeuronGradients, binary_cross_entropy, neuron_gradients
from tests.tiers import examples


def autograd_neuron(x, y, w=1.0, b=0.0, reduction="sum", dtype=torch.float32):
    """The same neuron, differentiated by torch autograd."""
    x = torch.as_tensor(x, dtype=dtype)
    y = torch.as_tensor(y, dtype=dtype)
    w_t = torch.tensor(w, dtype=dtype, requires_grad=True)
    b_t = torch.tensor(b, dtype=dtype, requires_grad=True)
    loss = binary_cross_entropy(torch.sigmoid(w_t * x + b_t), y, reduction=reduction)
    loss.backward()
    return loss.detach(), w_t.grad, b_t.grad


def test_scalar_seed_exact_digits():
    g = neuron_gradients(6.7, 0)
    assert isinstance(g, NeuronGradients)
    # the seed prints f"{dL_dw}" of a 0-d float32 tensor
    assert f"{g.dL_dw}" == "6.691762447357178"
    assert f"{g.dL_db}" == "0.998770534992218"
    assert f"{g.dL_dw:.4f}" == "6.6918" and f"{g.dL_db:.4f}" == "0.9988"
    assert str(g.loss) == "tensor(6.7012)"
    assert str(g.z) == "tensor(6.7000)" and str(g.y_pred) == "tensor(0.9988)"
    assert g.dL_dw.dtype == torch.float32


def test_scalar_seed_matches_autograd_within_rtol_but_not_bitwise():
    g = neuron_gradients(6.7, 0.0)
    loss, dw, db = autograd_neuron(6.7, 0.0)
    assert dw.item() == 6.6917619705200195  # autograd's float32 result
    assert g.dL_dw.item() != dw.item()  # the last float32 bit differs
    torch.testing.assert_close(g.dL_dw, dw, rtol=1e-6, atol=0)
    torch.testing.assert_close(g.dL_db, db, rtol=1e-6, atol=0)
    assert g.loss.item() == loss.item()


def test_vector_seed_sum():
    g = neuron_gradients([6.7, 8.1, 9.0], [0, 1, 1])
    assert str(g.loss) == "tensor(6.7016)"
    assert str(g.dL_dw) == "tensor(6.6882)"
    assert str(g.dL_db) == "tensor(0.9983)"
    assert g.dz_db.tolist() == [1.0, 1.0, 1.0]
    assert torch.equal(g.dz_dw, torch.tensor([6.7, 8.1, 9.0]))
    loss, dw, db = autograd_neuron([6.7, 8.1, 9.0], [0.0, 1.0, 1.0])
    torch.testing.assert_close(g.dL_dw, dw, rtol=1e-6, atol=0)
    torch.testing.assert_close(g.dL_db, db, rtol=1e-6, atol=0)
    torch.testing.assert_close(g.loss, loss, rtol=1e-6, atol=0)


def test_mean_divides_by_n():
    s = neuron_gradients([6.7, 8.1, 9.0], [0, 1, 1], reduction="sum")
    m = neuron_gradients([6.7, 8.1, 9.0], [0, 1, 1], reduction="mean")
    for name in ("loss", "dL_dw", "dL_db"):
        assert getattr(m, name).item() == pytest.approx(getattr(s, name).item() / 3, rel=1e-6)
    n = neuron_gradients([6.7, 8.1, 9.0], [0, 1, 1], reduction="none")
    assert n.dL_dw.shape == (3,)


def test_dl_dz_is_y_pred_minus_y_float64():
    x = [0.5, -1.2, 2.0, 0.1]
    y = [1.0, 0.0, 1.0, 0.0]
    g = neuron_gradients(x, y, w=0.7, b=-0.3, dtype=torch.float64)
    y_t = torch.tensor(y, dtype=torch.float64)
    torch.testing.assert_close(g.dloss_dy_pred * g.dy_pred_dz, g.y_pred - y_t)
    loss, dw, db = autograd_neuron(x, y, w=0.7, b=-0.3, dtype=torch.float64)
    torch.testing.assert_close(g.dL_dw, dw, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(g.dL_db, db, rtol=1e-12, atol=1e-15)


def test_finite_difference_in_w():
    def loss_at(w):
        return neuron_gradients([0.5, 2.0], [1, 0], w=w, b=0.1, dtype=torch.float64).loss.item()

    h = 1e-6
    numeric = (loss_at(0.4 + h) - loss_at(0.4 - h)) / (2 * h)
    manual = neuron_gradients([0.5, 2.0], [1, 0], w=0.4, b=0.1, dtype=torch.float64).dL_dw
    assert manual.item() == pytest.approx(numeric, rel=1e-7)


def test_errors():
    with pytest.raises(TypeError, match="integer tensor"):
        neuron_gradients(torch.tensor(6), 0)
    with pytest.raises(TypeError, match="float dtype"):
        neuron_gradients(6.7, 0, dtype=torch.int64)
    with pytest.raises(ValueError, match="one label per input"):
        neuron_gradients([1.0, 2.0], [0.0])
    with pytest.raises(ValueError, match="single number"):
        neuron_gradients([1.0, 2.0], [0.0, 1.0], w=[1.0, 2.0])
    with pytest.raises(ValueError, match="reduction"):
        neuron_gradients(6.7, 0, reduction="max")
    with pytest.raises(ValueError, match="inf or nan"):
        neuron_gradients(float("nan"), 0)
    with pytest.raises(ValueError, match="1-D"):
        neuron_gradients([[1.0]], [[0.0]])


@settings(max_examples=examples(40), deadline=None)
@given(
    xs=st.lists(st.floats(-5, 5), min_size=1, max_size=5),
    labels=st.lists(st.sampled_from([0.0, 1.0]), min_size=5, max_size=5),
    w=st.floats(-2, 2),
    b=st.floats(-2, 2),
    reduction=st.sampled_from(["sum", "mean"]),
)
def test_property_matches_autograd_float64(xs, labels, w, b, reduction):
    ys = labels[: len(xs)]
    g = neuron_gradients(xs, ys, w=w, b=b, reduction=reduction, dtype=torch.float64)
    loss, dw, db = autograd_neuron(xs, ys, w=w, b=b, reduction=reduction, dtype=torch.float64)
    torch.testing.assert_close(g.dL_dw, dw, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(g.dL_db, db, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(g.loss, loss, rtol=1e-12, atol=1e-12)


def test_rounded_sigmoid_keeps_gradients_finite_issue_input():
    g = neuron_gradients(6.7, 0.0, w=2.5)  # z = 16.75: float32 sigmoid rounds to 1.0
    assert g.y_pred.item() == 1.0 and torch.isfinite(g.loss)
    _, dw, db = autograd_neuron(6.7, 0.0, w=2.5, dtype=torch.float64)
    torch.testing.assert_close(g.dL_dw.double(), dw, rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(g.dL_db.double(), db, rtol=1e-3, atol=1e-3)


@settings(max_examples=examples(200), deadline=None)
@given(
    xs=st.lists(st.floats(-60, 60), min_size=1, max_size=4),
    labels=st.lists(st.sampled_from([0.0, 1.0]), min_size=4, max_size=4),
    w=st.floats(-5, 5),
    b=st.floats(-20, 20),
    reduction=st.sampled_from(["sum", "mean", "none"]),
)
def test_property_float32_finite_and_close_to_float64_where_the_loss_is(xs, labels, w, b,
                                                                         reduction):
    ys = labels[: len(xs)]
    g = neuron_gradients(xs, ys, w=w, b=b, reduction=reduction)
    if not torch.isfinite(g.loss).all():
        return
    # the truth: float64 autograd on the exact sigmoid, unclamped (dL/dz = y_pred - y)
    x64 = torch.tensor(xs, dtype=torch.float64)
    y64 = torch.tensor(ys, dtype=torch.float64)
    z64 = torch.tensor(w, dtype=torch.float64) * x64 + b
    dz = torch.sigmoid(z64) - y64
    per_w, per_b = dz * x64, dz
    if reduction == "sum":
        per_w, per_b = per_w.sum(), per_b.sum()
    elif reduction == "mean":
        per_w, per_b = per_w.mean(), per_b.mean()
    assert torch.isfinite(g.dL_dw).all() and torch.isfinite(g.dL_db).all()
    torch.testing.assert_close(g.dL_dw.double(), per_w, rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(g.dL_db.double(), per_b, rtol=1e-3, atol=1e-3)


def test_meta_and_complex_get_one_sentence():
    with pytest.raises(TypeError, match=r"x is complex \(torch.complex64\)"):
        neuron_gradients(torch.tensor(1 + 2j), 0.0)
    with pytest.raises(TypeError, match="w is complex"):
        neuron_gradients(6.7, 0.0, w=2 + 1j)
    with pytest.raises(ValueError, match="x is a meta tensor"):
        neuron_gradients(torch.empty(3, device="meta"), [0.0, 1.0, 1.0])
