"""Lesson 15's network exercise checks: right answers pass, each slip gets its message/code.

NETWORK_CODES also lists lesson 13's codes, fed in tests/test_mode_exercises.py."""

from __future__ import annotations

import random

from autograd_lab import mlp
from autograd_lab.engine import Value
from autograd_lab.exercises import (
    MISTAKES,
    check_layer_parameters,
    check_mlp_zero_grad,
    check_train_loop,
)

#: Codes only these tests feed (tests/test_exercises.py checks every code is fed somewhere).
NETWORK_CODES = {"parameter_rebound", "row_not_column", "mode_swapped"}


class NestedLayer(mlp.Layer):
    def parameters(self):
        return [n.parameters() for n in self.neurons]


class NoBiasLayer(mlp.Layer):
    def parameters(self):
        return [w for n in self.neurons for w in n.w]


class CopyLayer(mlp.Layer):
    def parameters(self):
        return [Value(p.data) for n in self.neurons for p in n.parameters()]


def test_layer_parameters() -> None:
    assert check_layer_parameters(mlp.Layer).ok
    assert "flat" in check_layer_parameters(NestedLayer).message
    assert "bias" in check_layer_parameters(NoBiasLayer).message
    assert "new Values" in check_layer_parameters(CopyLayer).message
    assert check_layer_parameters(...).mistake == "not_attempted"
    assert not check_layer_parameters(3).ok


class FirstLayerOnly(mlp.MLP):
    def zero_grad(self):
        self.layers[0].zero_grad()


class ZeroesData(mlp.MLP):
    def zero_grad(self):
        for p in self.parameters():
            p.data = 0.0
            p.grad = 0.0


class ToNone(mlp.MLP):
    def zero_grad(self):
        for p in self.parameters():
            p.grad = None


def test_mlp_zero_grad() -> None:
    assert check_mlp_zero_grad(mlp.MLP).ok
    assert check_mlp_zero_grad(FirstLayerOnly).mistake == "not_zeroed"
    assert ".data" in check_mlp_zero_grad(ZeroesData).message
    assert "None" in check_mlp_zero_grad(ToNone).message


def _train(zero: bool, rebound: bool):
    def train(model, points, labels, lr, steps):
        losses = []
        for _ in range(steps):
            if zero:
                model.zero_grad()
            L = mlp.loss(model, points, labels)
            L.backward()
            for p in model.parameters():
                if rebound:
                    p = Value(p.data - lr * p.grad)  # noqa: PLW2901
                else:
                    p.data -= lr * p.grad
            losses.append(L.data)
        return losses
    return train


def test_train_loop() -> None:
    right = check_train_loop(_train(zero=True, rebound=False))
    assert right.ok, right.message
    assert check_train_loop(_train(zero=False, rebound=False)).mistake == "not_zeroed"
    assert check_train_loop(_train(zero=True, rebound=True)).mistake == "parameter_rebound"
    assert "parameter_rebound" in MISTAKES
    assert not check_train_loop(lambda *a: [0.0] * 6).ok
    assert not check_train_loop(lambda *a: None).ok


def test_a_loop_that_never_ends_is_stopped(monkeypatch) -> None:
    from autograd_lab.exercises import student_code

    monkeypatch.setattr(student_code, "TIME_LIMIT", 1.0)

    def forever(model, points, labels, lr, steps):
        while True:
            random.random()

    verdict = check_train_loop(forever)
    assert not verdict.ok and "did not finish" in verdict.message
