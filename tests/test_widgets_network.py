"""NetworkTrainer (lesson 15): the state class against autograd_lab.mlp's own loop, and the
widget driven by button clicks."""

from __future__ import annotations

import math

import pytest

from autograd_lab import mlp
from autograd_lab.widgets.network_state import (
    NetworkSession,
    backward_step,
    check_prediction,
    forward,
)
from autograd_lab.widgets.network_trainer import NetworkTrainer


def test_session_steps_are_lesson_15s_gradient_descent() -> None:
    session = NetworkSession(width=3, lr=1.0, n_points=20)
    points, labels = mlp.two_circles(n=20)
    model = mlp.MLP(2, [3], seed=0)
    for _ in range(5):
        result = session.step()
        expected_before = mlp.gd_step(model, points, labels, 1.0)
        assert math.isclose(result.loss_before, expected_before, rel_tol=1e-12)
    assert math.isclose(session.losses[-1], mlp.loss(model, points, labels).data, rel_tol=1e-12)
    assert session.accuracy() == mlp.accuracy(model, points, labels)
    # the float evaluation of the boundary agrees with the Value network
    for x in points[:5]:
        assert session.logit(*x) == model(x).data  # the engine's arithmetic, bit for bit


@pytest.mark.parametrize(("width", "lr", "steps"), [(4, 2.0, 45), (1, 0.1, 25), (8, 5.0, 30),
                                                   (3, 20.0, 60)])
def test_run_is_step_repeated_bit_for_bit(width: int, lr: float, steps: int) -> None:
    """Run computes its steps in plain floats: every loss, flip, weight and .grad is exactly
    what the engine's step gives (lr = 20 included: its loss jumps about)."""
    by_step, by_run = NetworkSession(width=width, lr=lr), NetworkSession(width=width, lr=lr)
    stepped = [r for r in (by_step.step() for _ in range(steps)) if r is not None]
    ran = by_run.run(7) + by_run.run(steps - 7)  # twice: the second run starts from the first
    assert ran == stepped and by_run.results == by_step.results
    assert by_run.losses == by_step.losses and by_run.stopped == by_step.stopped
    assert [(p.data, p.grad) for p in by_run.model.parameters()] == [
        (p.data, p.grad) for p in by_step.model.parameters()]
    assert by_run.logits() == by_step.logits()
    after = by_run.step(), by_step.step()  # the engine goes on from the weights Run left
    assert after[0] == after[1]


def test_the_float_step_has_teeth() -> None:
    """The same sums added in another order (the last point first) differ in the last bits:
    the bit-for-bit check above could fail."""
    session = NetworkSession(width=4, lr=2.0)
    layers = [([list(r) for r in W], list(b)) for W, b in session.model.weights()]
    points, labels = session.points[::-1], session.labels[::-1]
    backward_step(layers, points, forward(layers, points), labels, 2.0)
    engine = mlp.MLP(2, [4], seed=0)
    mlp.gd_step(engine, session.points, session.labels, 2.0)
    assert [v for W, _ in layers for row in W for v in row] != [
        v for W, _ in engine.weights() for row in W for v in row]


def test_flips_and_predictions() -> None:
    session = NetworkSession(width=4, lr=2.0)
    results = session.run(40)
    assert any(r.flipped for r in results)
    for r in results:
        classes_changed = r.flipped
        assert all(0 <= i < len(session.points) for i in classes_changed)
    r = next(r for r in results if r.flipped and r.loss_after < r.loss_before)
    lines = check_prediction(r, loss_down=True, any_flip=False)
    assert "right" in lines[0] and "not this time" in lines[1]
    assert check_prediction(r, None, None) == []


def test_bad_settings_are_refused_with_a_sentence() -> None:
    session = NetworkSession()
    for bad in (0, 9, 2.5):
        try:
            session.set_width(bad)
        except ValueError as exc:
            assert "width" in str(exc)
        else:
            raise AssertionError(f"width {bad} accepted")


def test_widget_buttons_and_static_copy() -> None:
    w = NetworkTrainer(width=4, lr=2.0)
    assert w.reset_button.disabled
    w.loss_down.value = "yes"
    w.step_button.click()
    assert w.session.steps == 1
    assert "You predicted the loss would go down" in w.text
    assert w.loss_down.value == "no prediction"
    w.run_button.click()
    assert w.session.steps == 21 and w.session.losses[-1] < w.session.losses[0]
    bundle = w._repr_mimebundle_()
    assert "<svg" in bundle["text/html"] and "step 21" in bundle["text/html"]
    assert bundle["text/plain"] == repr(w)
    w.reset_button.click()
    assert w.session.steps == 0
    w.width_buttons.value = 2
    assert len(w.session.model.parameters()) == 2 * 2 + 2 + 2 + 1
    w.lr_choice.value = "0.3"
    assert w.session.lr == 0.3 and w.session.steps == 0
    assert w.last_error is None


def test_a_bad_start_falls_back_with_one_line() -> None:
    w = NetworkTrainer(width=50)
    assert w.session.width == 4 and "width" in w.message.value


def test_steps_start_no_full_garbage_collection_and_leave_the_collector_as_found() -> None:
    """A Step is one engine step of ~1,600 nodes. Its graph is freed when the step ends and
    the collector is paused while it is built, so 30 Steps start no full (generation 2)
    collection, each of which takes ~100 ms in a kernel with torch loaded (before: about
    one every 14 steps). The collector is on again afterwards, and stays off if it was."""
    import gc

    session = NetworkSession()
    full = []

    def count(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(info)

    gc.callbacks.append(count)
    try:
        for _ in range(30):
            session.step()
    finally:
        gc.callbacks.remove(count)
    assert full == [] and gc.isenabled()
    gc.disable()
    try:
        session.step()
        assert not gc.isenabled()
    finally:
        gc.enable()
