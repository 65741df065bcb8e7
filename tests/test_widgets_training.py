"""TrainingExplorer: the seed's linear model trained with Step / Run / Reset, no browser."""

from __future__ import annotations

import math
import warnings

import pytest

pytest.importorskip("ipywidgets")

from autograd_lab.widgets import TrainingExplorer, TrainingSession  # noqa: E402

#: The seed notebook's printout (x=[1,2,3,4], y=2x+1, lr=0.1, 10 epochs).
SEED_LINES = [
    "Epoch 1: w=3.5000, b=1.2000, loss=41.0000",
    "Epoch 2: w=1.1500, b=0.4100, loss=18.4150",
    "Epoch 3: w=2.7200, b=0.9530, loss=8.2744",
    "Epoch 4: w=1.6635, b=0.6024, loss=3.7210",
    "Epoch 5: w=2.3671, b=0.8502, loss=1.6763",
    "Epoch 6: w=1.8914, b=0.6966, loss=0.7579",
    "Epoch 7: w=2.2060, b=0.8116, loss=0.3453",
    "Epoch 8: w=1.9912, b=0.7463, loss=0.1597",
    "Epoch 9: w=2.1313, b=0.8014, loss=0.0761",
    "Epoch 10: w=2.0337, b=0.7755, loss=0.0383",
]


def float64_losses(lr: float, epochs: int) -> list[float]:
    """Plain gradient descent on MSE in float64, written out here (independent of the kit)."""
    xs, ys = [1.0, 2.0, 3.0, 4.0], [3.0, 5.0, 7.0, 9.0]
    w = b = 0.0
    losses = []
    for _ in range(epochs):
        err = [w * x + b - y for x, y in zip(xs, ys, strict=True)]
        losses.append(sum(e * e for e in err) / 4)
        dw = sum(2 * e * x for e, x in zip(err, xs, strict=True)) / 4
        db = sum(2 * e for e in err) / 4
        w, b = w - lr * dw, b - lr * db
    return losses


def test_run_prints_the_seed_lines_and_draws() -> None:
    w = TrainingExplorer()
    first_png = w.plot_image.value
    assert first_png.startswith("<svg")
    w.run_button.click()
    assert w.text.splitlines() == SEED_LINES
    for line in SEED_LINES:
        assert line in w.output_html.value
    assert w.plot_image.value != first_png and w.plot_image.value.startswith("<svg")
    assert "converging" in w.status_html.value and "agl-converging" in w.status_html.value


def test_step_then_run_ends_at_epochs_and_reset_starts_again() -> None:
    """Run trains until epoch == epochs: Step, Step, Step, Run with epochs = 10 ends at 10."""
    w = TrainingExplorer()
    for _ in range(3):
        w.step_button.click()
    assert w.text.splitlines() == SEED_LINES[:3]
    w.run_button.click()
    assert w.text.splitlines() == SEED_LINES  # continues from epoch 4, stops at 10
    assert "epoch 10," in w.status_html.value
    assert w.run_button.disabled and w.step_button.disabled and "Epoch 10 of 10" in w.message.value
    w.reset_button.click()
    assert w.text == "" and w.session.w == 0.0 and "press Step" in w.output_html.value


def test_changing_epochs_or_lr_after_a_run_starts_a_fresh_run() -> None:
    w = TrainingExplorer()
    w.run_button.click()
    w.epochs_box.value = 12
    assert w.text == "" and "fresh run" in w.message.value and w.session.w == 0.0
    w.run_button.click()
    assert w.text.splitlines()[:10] == SEED_LINES and len(w.text.splitlines()) == 12
    lr = 0.123  # between 0.1 and 0.15 in a step of 0.001, typed in the box
    w.lr_box.value = str(lr)
    assert w.lr_box.value == "0.123" and w.session.lr == pytest.approx(lr)
    assert w.text == "" and "lr is now 0.123" in w.message.value
    w.run_button.click()
    ref = float64_losses(lr, 12)
    assert [r.loss for r in w.session.records] == pytest.approx(ref, rel=1e-4)
    # the status line and the plot label name the same lr, the one the records came from
    assert "(lr=0.123)" in w.status_html.value
    assert ">loss per epoch (lr=0.123)</text>" in w.plot_image.value


def test_diverging_learning_rate_is_labelled_by_the_same_rule() -> None:
    reference = float64_losses(0.5, 10)
    run = sum(1 for v in reference[1:4] if v > reference[0])
    assert run == 3  # above the first loss three epochs in a row: diverging
    w = TrainingExplorer()
    w.lr_box.value = "0.5"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning escapes the widget
        w.run_button.click()
    assert "diverging" in w.status_html.value and "agl-diverging" in w.status_html.value
    assert w.session.diverging
    assert [r.loss for r in w.session.records] == pytest.approx(reference, rel=1e-5)


def test_small_learning_rate_converges_slowly_and_is_not_labelled() -> None:
    """lr=0.01 for 30 epochs: a setting no other test uses."""
    w = TrainingExplorer()
    w.lr_box.value = "0.01"
    w.epochs_box.value = 30
    w.run_button.click()
    ref = float64_losses(0.01, 30)
    assert [r.loss for r in w.session.records] == pytest.approx(ref, rel=1e-5)
    assert "converging" in w.status_html.value and not w.session.diverging


def test_loss_going_to_infinity_stops_with_a_message() -> None:
    w = TrainingExplorer()
    w.lr_box.value = "1"
    w.epochs_box.value = 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w.run_button.click()
    last = w.session.records[-1].loss
    assert not math.isfinite(last) or not math.isfinite(w.session.w)
    assert w.session.finished and w.run_button.disabled and w.step_button.disabled
    assert "Reset" in w.message.value
    w.reset_button.click()
    assert not w.run_button.disabled and w.message.value == ""


def test_session_logic_directly() -> None:
    s = TrainingSession()
    new = s.step()
    assert [str(r) for r in new] == SEED_LINES[:1] and (s.w, s.b) == (3.5, 1.2000000476837158)
    s.run_to(10)
    assert s.lines() == SEED_LINES and s.run_to(5) == []
    assert s.set_lr(0.1) is False and s.epoch == 10  # the same lr: nothing restarts
    assert s.set_lr(0.12) is True and s.epoch == 0
    with pytest.raises(ValueError):
        s.set_lr(-1.0)
    s.reset()
    assert s.records == [] and s.status().startswith("Not trained yet")


def test_display_bundle() -> None:
    w = TrainingExplorer()
    assert w._repr_mimebundle_()["text/plain"] == (
        "TrainingExplorer(lr=0.1, epochs=10) — run this cell to interact"
        " (re-run it after a kernel restart)"
    )
    assert "agl-training-explorer" in w.root._dom_classes
