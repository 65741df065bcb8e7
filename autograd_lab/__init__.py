"""autograd-lab: make PyTorch autograd visible.

Public API (import from ``autograd_lab``)::

    derive, Derivation, DerivationStep, CheckTable,
    ExpressionError, DerivationError, GradientMismatch,
    binary_cross_entropy, neuron_gradients, NeuronGradients,
    train_linear, EpochRecord, trace_backward, BackwardStep,
    autograd_graph, Graph, GraphNode, draw_graph, numerical_derivative,
    notebook_setup

The core modules are plain imports (together they add a few tens of milliseconds to
``import torch``); matplotlib, IPython and ipywidgets load only when a drawing, notebook
or widget function is called (``autograd_lab.widgets`` keeps its own lazy loading).
See ARCHITECTURE.md for what lives where.
"""

from __future__ import annotations

from autograd_lab._version import PINNED_TORCH, __version__, check_torch_version
from autograd_lab.agreement_table import CheckTable
from autograd_lab.derivation import Derivation, derive
from autograd_lab.derivation_steps import DerivationStep
from autograd_lab.drawing import draw_graph
from autograd_lab.engine import Value
from autograd_lab.errors import DerivationError, ExpressionError, GradientMismatch
from autograd_lab.graph import Graph, GraphNode, autograd_graph
from autograd_lab.line_fit import EpochRecord, train_linear
from autograd_lab.losses import binary_cross_entropy
from autograd_lab.neuron import NeuronGradients, neuron_gradients
from autograd_lab.notebook import notebook_setup
from autograd_lab.numerical import numerical_derivative
from autograd_lab.trace import BackwardStep, trace_backward

__all__ = [
    "BackwardStep",
    "CheckTable",
    "Derivation",
    "DerivationError",
    "DerivationStep",
    "EpochRecord",
    "ExpressionError",
    "GradientMismatch",
    "Graph",
    "GraphNode",
    "NeuronGradients",
    "PINNED_TORCH",
    "__version__",
    "autograd_graph",
    "binary_cross_entropy",
    "derive",
    "draw_graph",
    "neuron_gradients",
    "notebook_setup",
    "numerical_derivative",
    "trace_backward",
    "train_linear",
    "Value",
]

check_torch_version()
