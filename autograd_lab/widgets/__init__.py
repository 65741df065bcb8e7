"""Interactive widgets that step through autograd (ipywidgets 8, no custom front-end).

``from autograd_lab.widgets import ChainRuleStepper`` — each widget module (and
ipywidgets/matplotlib with it) is imported only when its name is first used.

- :class:`ChainRuleStepper` — the hand chain rule, one step at a time (lesson 02).
- :class:`BackwardTracer` — torch's real backward pass, node by node (lesson 03).
- :class:`GradAccumulationLab` — ``.grad`` accumulating over backward calls (lesson 06).
- :class:`NoGradExplorer` — four ways to turn gradients off, side by side (lesson 07).
- :class:`TrainingExplorer` — lesson 08's linear model trained epoch by epoch (lesson 08).

Each widget has a plain-Python logic class beside it (``ChainRuleSteps``, ``BackwardSteps``,
``AccumulationRun``, ``NoGradPanel``, ``TrainingSession``) that tests drive directly.
"""

from __future__ import annotations

import importlib

_EXPORTS: dict[str, str] = {
    "ChainRuleStepper": "chain_rule",
    "ChainRuleSteps": "chain_rule",
    "BackwardTracer": "backward_tracer",
    "BackwardSteps": "backward_tracer",
    "GradAccumulationLab": "accumulation",
    "AccumulationRun": "accumulation",
    "NoGradExplorer": "no_grad",
    "NoGradPanel": "no_grad",
    "TrainingExplorer": "training",
    "TrainingSession": "training",
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
