"""train_linear: the seed's ten lines verbatim, torch.optim.SGD agreement, divergence, errors."""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path

import pytest
import torch

from autograd_lab import EpochRecord, train_linear
from autograd_lab.line_fit import is_diverging

X = [1.0, 2.0, 3.0, 4.0]
Y = [3.0, 5.0, 7.0, 9.0]  # y = 2x + 1

# the seed notebooks live beside the repository (../shared/seeds) on the course machines
SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_LINES = """\
Epoch 1: w=3.5000, b=1.2000, loss=41.0000
Epoch 2: w=1.1500, b=0.4100, loss=18.4150
Epoch 3: w=2.7200, b=0.9530, loss=8.2744
Epoch 4: w=1.6635, b=0.6024, loss=3.7210
Epoch 5: w=2.3671, b=0.8502, loss=1.6763
Epoch 6: w=1.8914, b=0.6966, loss=0.7579
Epoch 7: w=2.2060, b=0.8116, loss=0.3453
Epoch 8: w=1.9912, b=0.7463, loss=0.1597
Epoch 9: w=2.1313, b=0.8014, loss=0.0761
Epoch 10: w=2.0337, b=0.7755, loss=0.0383""".splitlines()


def _seed_text() -> str | None:
    if not SEED_DIR.is_dir():
        return None
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(SEED_DIR.glob("*.txt")))


def test_seed_lines_verbatim():
    records = train_linear(X, Y)
    assert [str(r) for r in records] == SEED_LINES


def test_seed_lines_are_the_seed_notebooks():
    text = _seed_text()
    if text is None:
        pytest.skip("the seed notebooks (shared/seeds) are not next to this checkout")
    for line in SEED_LINES:
        assert line in text


def test_record_fields():
    first = train_linear(X, Y, epochs=1)[0]
    assert first == EpochRecord(epoch=1, w=3.5, b=1.2000000476837158, loss=41.0)
    assert all(type(v) is float for v in (first.w, first.b, first.loss))
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.w = 0.0  # type: ignore[misc]


def test_epoch_3_tie_artifact_is_float32():
    loss = train_linear(X, Y, epochs=3)[2].loss
    assert f"{loss:.4f}" == "8.2744"
    # the same loop in float64 lands just below the tie and prints 8.2743
    x = torch.tensor(X, dtype=torch.float64)
    y = torch.tensor(Y, dtype=torch.float64)
    w = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    for _ in range(3):
        exact = ((w * x + b - y) ** 2).mean()
        exact.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
        w.grad.zero_()
        b.grad.zero_()
    assert exact.item() == pytest.approx(8.27435, abs=1e-12)
    assert f"{exact.item():.4f}" == "8.2743"


def test_matches_torch_optim_sgd():
    w = torch.tensor(0.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=0.05)
    x, y = torch.tensor(X), torch.tensor(Y)
    expected = []
    for _ in range(25):
        opt.zero_grad()
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        opt.step()
        expected.append((w.item(), b.item(), loss.item()))
    records = train_linear(X, Y, lr=0.05, epochs=25)
    for rec, (ew, eb, el) in zip(records, expected, strict=True):
        assert rec.w == pytest.approx(ew, abs=1e-5)
        assert rec.b == pytest.approx(eb, abs=1e-5)
        assert rec.loss == pytest.approx(el, rel=1e-5)


def test_first_gradient_by_hand():
    # w = b = 0: dloss/dw = mean(2*(0 - y)*x) = -35, dloss/db = mean(2*(0 - y)) = -12
    rec = train_linear(X, Y, lr=0.1, epochs=1)[0]
    assert rec.w == pytest.approx(0.1 * 35)
    assert rec.b == pytest.approx(0.1 * 12)


def test_continue_a_run():
    full = train_linear(X, Y, epochs=6)
    head = train_linear(X, Y, epochs=3)
    tail = train_linear(X, Y, epochs=3, w=head[-1].w, b=head[-1].b, start_epoch=4)
    assert [r.epoch for r in tail] == [4, 5, 6]
    assert [str(r) for r in head + tail] == [str(r) for r in full]


def test_on_epoch_called_and_can_stop():
    seen = []
    records = train_linear(X, Y, epochs=10, on_epoch=lambda r: (seen.append(r), r.epoch == 4)[1])
    assert [r.epoch for r in records] == [1, 2, 3, 4]
    assert seen == records


def test_divergence_warns_once_and_stops_when_not_finite():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = train_linear(X, Y, lr=1.0, epochs=500)
    diverging = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(diverging) == 1
    assert "lr=1" in str(diverging[0].message)
    assert not math.isfinite(records[-1].loss)
    assert all(math.isfinite(r.loss) for r in records[:-1])
    assert len(records) < 500


def test_no_warning_when_converging():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_linear(X, Y, lr=0.01, epochs=50)


@pytest.mark.parametrize(
    "losses, expected",
    [
        ([], False),
        ([41.0], False),
        ([41.0, 18.4, 8.3, 3.7], False),
        ([41.0, 50.0, 60.0], False),
        ([41.0, 50.0, 60.0, 70.0], True),
        ([41.0, 50.0, 30.0, 60.0, 70.0], False),
        ([41.0, 50.0, 30.0, 60.0, 70.0, 80.0], True),
        ([41.0, float("inf")], True),
        ([float("nan")], True),
    ],
)
def test_is_diverging(losses, expected):
    assert is_diverging(losses) is expected


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x": [], "y": []}, "empty"),
        ({"x": [1.0, 2.0], "y": [1.0]}, "one target per input"),
        ({"x": [1.0, float("nan")], "y": [1.0, 2.0]}, "inf or nan"),
        ({"x": [1.0], "y": [float("inf")]}, "inf or nan"),
        ({"lr": 0.0}, "positive"),
        ({"lr": float("nan")}, "not finite"),
        ({"epochs": -1}, "epochs"),
        ({"w": float("inf")}, "not finite"),
        ({"x": [[1.0, 2.0]], "y": [[1.0, 2.0]]}, "flat list"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"x": X, "y": Y, **kwargs}
    with pytest.raises(ValueError, match=match):
        train_linear(**args)


def test_zero_epochs_and_numpy_like_ints():
    assert train_linear(X, Y, epochs=0) == []
    import numpy as np

    assert len(train_linear(X, Y, epochs=np.int64(2))) == 2
    with pytest.raises(ValueError, match="whole number"):
        train_linear(X, Y, epochs=2.5)
