"""autograd-lab: make PyTorch autograd visible.

Public API (import from ``autograd_lab``)::

    derive, Derivation, DerivationStep, CheckTable,
    ExpressionError, DerivationError, GradientMismatch,
    binary_cross_entropy, neuron_gradients, NeuronGradients,
    train_linear, EpochRecord, trace_backward, BackwardStep,
    autograd_graph, Graph, GraphNode, draw_graph, numerical_derivative,
    notebook_setup

Submodules load on first use (a module ``__getattr__``), so ``import autograd_lab``
costs about what ``import torch`` does: matplotlib, IPython and ipywidgets are
imported only when a drawing, notebook or widget function is called.
"""

from __future__ import annotations

import importlib
from typing import Any

from autograd_lab._version import PINNED_TORCH, __version__, check_torch_version

# public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    "derive": "derivation",
    "Derivation": "derivation",
    "DerivationStep": "derivation",
    "CheckTable": "derivation",
    "ExpressionError": "errors",
    "DerivationError": "errors",
    "GradientMismatch": "errors",
    "binary_cross_entropy": "losses",
    "neuron_gradients": "neuron",
    "NeuronGradients": "neuron",
    "train_linear": "training",
    "EpochRecord": "training",
    "trace_backward": "trace",
    "BackwardStep": "trace",
    "autograd_graph": "graph",
    "Graph": "graph",
    "GraphNode": "graph",
    "draw_graph": "graph",
    "numerical_derivative": "numerical",
    "notebook_setup": "notebook",
    "Value": "engine",
}

__all__ = sorted(_EXPORTS) + ["PINNED_TORCH", "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'autograd_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"autograd_lab.{module}"), name)
    globals()[name] = value  # cache: the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


check_torch_version()
