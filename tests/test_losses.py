"""binary_cross_entropy and mse: seed figures, torch agreement, the float32 clamp, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from autograd_lab import binary_cross_entropy
from autograd_lab.losses import clamp_bounds, mse


def seed_bce(prediction, target):
    """The seed notebooks' function, verbatim."""
    epsilon = 1e-8
    prediction = torch.clamp(prediction, epsilon, 1 - epsilon)
    return -(target * torch.log(prediction) + (1 - target) * torch.log(1 - prediction))


def test_scalar_seed_figure():
    y_pred = torch.sigmoid(torch.tensor(1.0) * torch.tensor(6.7) + torch.tensor(0.0))
    loss = binary_cross_entropy(y_pred, torch.tensor(0))
    assert str(loss) == "tensor(6.7012)"
    assert loss.item() == seed_bce(y_pred, torch.tensor(0)).item()  # bit for bit


def test_scalar_seed_with_autograd_keeps_seed_repr_and_gradient():
    w = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    y_pred = torch.sigmoid(w * torch.tensor(6.7) + b)
    loss = binary_cross_entropy(y_pred, torch.tensor(0.0))
    assert str(loss) == "tensor(6.7012, grad_fn=<NegBackward0>)"
    loss.backward()
    assert str(w.grad) == "tensor(6.6918)" and str(b.grad) == "tensor(0.9988)"


def test_vector_seed_sum():
    x = torch.tensor([6.7, 8.1, 9.0])
    y = torch.tensor([0.0, 1.0, 1.0])
    y_pred = torch.sigmoid(torch.tensor(1.0) * x + torch.tensor(0.0))
    loss = binary_cross_entropy(y_pred, y, reduction="sum")
    assert str(loss) == "tensor(6.7016)"
    assert loss.item() == torch.sum(seed_bce(y_pred, y)).item()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_agrees_with_torch_away_from_clamp(dtype, reduction):
    gen = torch.Generator().manual_seed(0)
    p = torch.rand(50, generator=gen, dtype=dtype) * 0.98 + 0.01
    t = (torch.rand(50, generator=gen, dtype=dtype) > 0.5).to(dtype)
    ours = binary_cross_entropy(p, t, reduction=reduction)
    theirs = F.binary_cross_entropy(p, t, reduction=reduction)
    rtol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(ours, theirs, rtol=rtol, atol=0)


def test_accepts_floats_and_lists():
    assert binary_cross_entropy(0.5, 1).item() == pytest.approx(0.6931471805599453, rel=1e-6)
    by_list = binary_cross_entropy([0.9, 0.2], [1.0, 0.0], reduction="none")
    expected = F.binary_cross_entropy(torch.tensor([0.9, 0.2]), torch.tensor([1.0, 0.0]),
                                      reduction="none")
    torch.testing.assert_close(by_list, expected)


def test_float32_trap_is_real_and_avoided():
    one = torch.tensor([1.0, 1.0, 0.0, 0.0])
    target = torch.tensor([0.0, 1.0, 0.0, 1.0])
    seed = seed_bce(one, target)
    assert not torch.isfinite(seed).all()  # the seed's clamp does nothing at the top
    ours = binary_cross_entropy(one, target, reduction="none")
    assert torch.isfinite(ours).all()
    # p=1, t=1 and p=0, t=0 are perfect: (almost) zero loss; the wrong ones are large
    assert ours[1].item() < 1e-6 and ours[2].item() < 1e-6
    assert ours[0].item() > 15 and ours[3].item() > 15


def test_clamp_bounds_float32():
    low, high = clamp_bounds(torch.float32)
    assert low == 1e-8
    assert high == torch.nextafter(torch.tensor(1.0), torch.tensor(0.0)).item()
    assert clamp_bounds(torch.float64)[1] == 1 - 1e-8


def test_gradients_flow_and_match_torch():
    p = torch.tensor([0.3, 0.8, 0.6], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)
    binary_cross_entropy(p, t).backward()
    q = p.detach().clone().requires_grad_(True)
    F.binary_cross_entropy(q, t).backward()
    torch.testing.assert_close(p.grad, q.grad, rtol=1e-12, atol=0)
    # dL/dp = (p - t) / (p (1 - p)) / n
    manual = (p.detach() - t) / (p.detach() * (1 - p.detach())) / 3
    torch.testing.assert_close(p.grad, manual, rtol=1e-12, atol=0)


def test_mean_is_sum_over_n():
    p, t = [0.2, 0.7, 0.9, 0.4], [0.0, 1.0, 1.0, 0.0]
    mean = binary_cross_entropy(p, t)
    total = binary_cross_entropy(p, t, reduction="sum")
    assert mean.item() == pytest.approx(total.item() / 4, rel=1e-6)


def test_int_prediction_is_type_error():
    with pytest.raises(TypeError, match="float"):
        binary_cross_entropy(torch.tensor([1, 0]), torch.tensor([1, 0]))
    with pytest.raises(TypeError, match=r"1\.0"):
        binary_cross_entropy(1, 1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"reduction": "avg"}, "reduction"),
        ({"epsilon": 0.7}, "epsilon"),
        ({"epsilon": -1e-8}, "epsilon"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        binary_cross_entropy([0.5], [1.0], **kwargs)


def test_shape_mismatch():
    with pytest.raises(ValueError, match="one target per prediction"):
        binary_cross_entropy([0.5, 0.2], [1.0, 0.0, 1.0])


def test_mse_is_the_seed_formula():
    y_pred = torch.tensor([1.0, 2.0, 4.0])
    y_true = torch.tensor([1.0, 3.0, 7.0])
    assert mse(y_pred, y_true).item() == pytest.approx((0 + 1 + 9) / 3)
    torch.testing.assert_close(mse(y_pred, y_true), F.mse_loss(y_pred, y_true))


def test_prediction_outside_zero_one_is_refused_like_torch_with_the_sigmoid_hint():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(torch.tensor(2.5), torch.tensor(1.0))  # torch refuses it
    for bad, shown in ((2.5, "2.5"), ([0.5, -0.25], "-0.25"), (torch.tensor([1.5, 0.2]), "1.5")):
        with pytest.raises(ValueError, match=rf"prediction {shown} is not a probability between "
                           r"0 and 1 .*; forgot the sigmoid\? pass torch\.sigmoid\(z\)"):
            binary_cross_entropy(bad, 1.0 if not isinstance(bad, list | torch.Tensor) else
                                 [1.0, 0.0])
    with pytest.raises(ValueError, match="contains nan"):
        binary_cross_entropy(float("nan"), 1.0)
    edges = binary_cross_entropy([0.0, 1.0], [0.0, 1.0], reduction="none")  # 0 and 1 are fine
    assert torch.isfinite(edges).all()


def test_empty_input_is_refused_instead_of_nan():
    assert torch.isnan(F.binary_cross_entropy(torch.tensor([]), torch.tensor([])))  # torch
    with pytest.raises(ValueError, match="prediction is empty, so there is no loss"):
        binary_cross_entropy([], [])


@pytest.mark.parametrize("target", [None, "1", ["1", "0"], b"1"])
def test_target_that_is_not_a_number(target):
    with pytest.raises(TypeError, match=r"target .* is a \w+; give labels as numbers, such as 1"):
        binary_cross_entropy([0.9, 0.2] if isinstance(target, list) else 0.9, target)


def test_meta_and_complex_get_one_sentence():
    with pytest.raises(TypeError, match=r"prediction is complex \(torch.complex64\)"):
        binary_cross_entropy(torch.tensor([0.5 + 0j]), [1.0])
    with pytest.raises(ValueError, match="prediction is a meta tensor"):
        binary_cross_entropy(torch.empty(2, device="meta"), [1.0, 0.0])
    with pytest.raises(TypeError, match=r"target is complex"):
        binary_cross_entropy([0.5], torch.tensor([1 + 0j]))
