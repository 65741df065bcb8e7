"""Interactive widgets that step through autograd (ipywidgets 7.7 and 8, no custom front-end).

``from autograd_lab.widgets import ChainRuleStepper`` — each widget module (and
ipywidgets with it) is imported only when its name is first used; no widget imports
matplotlib (pictures are SVG markup, ``svg.py``).

- :class:`ChainRuleStepper` — the hand chain rule, one step at a time (lesson 02).
- :class:`BackwardTracer` — torch's real backward pass, node by node (lesson 03).
- :class:`GradAccumulationLab` — ``.grad`` accumulating over backward calls (lesson 06).
- :class:`NoGradExplorer` — four ways to turn gradients off, side by side (lesson 07).
- :class:`TrainingExplorer` — lesson 08's linear model trained epoch by epoch (lesson 08).
- :class:`NetworkTrainer` — lesson 15's MLP on the engine, step by step, predict then step.

Each widget has a plain-Python state class in a ``*_state`` module beside it
(``ChainRuleSteps``, ``BackwardSteps``, ``AccumulationRun``, ``NoGradPanel``,
``TrainingSession``) that tests drive directly; pictures are SVG markup (``svg.py``).
"""

from __future__ import annotations

import importlib

_EXPORTS: dict[str, str] = {
    "ChainRuleStepper": "chain_rule",
    "ChainRuleSteps": "chain_rule_state",
    "BackwardTracer": "backward_tracer",
    "BackwardSteps": "backward_state",
    "GradAccumulationLab": "accumulation",
    "AccumulationRun": "accumulation_state",
    "NoGradExplorer": "no_grad",
    "NoGradPanel": "no_grad_state",
    "TrainingExplorer": "training",
    "TrainingSession": "training_state",
    "NetworkTrainer": "network_trainer",
    "NetworkSession": "network_state",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'autograd_lab.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"autograd_lab.widgets.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
