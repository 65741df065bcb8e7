"""Exercise checks with feedback that names the mistake.

Every check compares a student's answer with the truth computed independently (torch autograd
in float64, cross-checked by a central difference) and returns a :class:`Verdict`
``(ok, mistake, message)`` whose repr is one line, e.g.
``✗ Not quite: it looks like you left out the inner derivative … (missing_chain_factor)``.
A check never raises on an answer; ``...`` or None reports "not attempted yet".

``Verdict``, ``MISTAKES`` and ``check_prediction`` (the 4-decimal-place rule) live in the core
(:mod:`autograd_lab.verdict`, :mod:`autograd_lab.prediction`), where the widgets use them too;
they are re-exported here. Each ``*_checks`` module holds one notebook's checks;
:mod:`~.student_code` runs student code (gradients on, a time limit), :mod:`~.ground_truth`
computes the truth, :mod:`~.gradient_table` tabulates the numeric exercises.

Checks, by notebook (``notebooks/exercises/source/<name>/<name>.ipynb``):

* chain_rule, neuron_bce, training: ``check_gradient(exercise, wrt, answer)``
* graph_and_accumulation: ``check_grad_sequence(a, b, c)``, ``check_intermediate_grad(fn)``
* no_grad: ``check_no_grad_choice(situation, answer)``, ``check_no_grad_loop(fn)``
* training: ``check_training_loop(fn)``
* engine: ``check_sin(sin)``, ``check_backward_order(fn)``, ``check_x_exp_y(function)``
* gradients_of_gradients: ``check_slope(fn)``, ``check_second_derivative(fn)``, ``check_hvp(fn)``
* tensors_and_hooks: ``check_weight_grad(grad_W)``, ``check_jacobian(J)``,
  ``check_clip_hook(fn)``, ``check_target_loss(fn)``
* first_gradient: ``check_gradient("cubic", "x", dy_dx)``, ``check_central_difference(fn)``
* graph_nodes: ``check_graph_nodes(root_node, next_nodes)``
* vectors: ``check_vjp(vjp)``, ``check_bias_grad(b_grad)``
* graph_building: ``check_bend_grad(answer)``, ``check_loop_grad(answer)``
* forward_and_reverse: ``check_jvp(fn)``, ``check_mode_choice(mode_for)``,
  ``check_jacobian_column(column)``
* train_network: ``check_layer_parameters(Layer)``, ``check_mlp_zero_grad(MLP)``,
  ``check_train_loop(fn)``
"""

from __future__ import annotations

from autograd_lab.exercises.accumulation_checks import check_grad_sequence, check_intermediate_grad
from autograd_lab.exercises.choice_checks import check_no_grad_choice
from autograd_lab.exercises.engine_checks import check_backward_order, check_sin, check_x_exp_y
from autograd_lab.exercises.finite_difference_checks import check_central_difference
from autograd_lab.exercises.gradient_checks import EXERCISES, check_gradient
from autograd_lab.exercises.graph_building_checks import check_bend_grad, check_loop_grad
from autograd_lab.exercises.graph_node_checks import check_graph_nodes
from autograd_lab.exercises.higher_order_checks import (
    check_hvp,
    check_second_derivative,
    check_slope,
)
from autograd_lab.exercises.loop_checks import check_no_grad_loop, check_training_loop
from autograd_lab.exercises.mode_checks import check_jacobian_column, check_jvp, check_mode_choice
from autograd_lab.exercises.network_checks import (
    check_layer_parameters,
    check_mlp_zero_grad,
    check_train_loop,
)
from autograd_lab.exercises.tensor_checks import (
    check_clip_hook,
    check_jacobian,
    check_target_loss,
    check_weight_grad,
)
from autograd_lab.exercises.vector_product_checks import check_bias_grad, check_vjp
from autograd_lab.prediction import check_prediction
from autograd_lab.verdict import MISTAKES, Verdict

__all__ = [
    "EXERCISES",
    "MISTAKES",
    "Verdict",
    "check_backward_order",
    "check_bend_grad",
    "check_bias_grad",
    "check_central_difference",
    "check_graph_nodes",
    "check_loop_grad",
    "check_vjp",
    "check_grad_sequence",
    "check_gradient",
    "check_hvp",
    "check_prediction",
    "check_intermediate_grad",
    "check_jacobian_column",
    "check_jvp",
    "check_mode_choice",
    "check_layer_parameters",
    "check_mlp_zero_grad",
    "check_train_loop",
    "check_no_grad_choice",
    "check_no_grad_loop",
    "check_sin",
    "check_second_derivative",
    "check_slope",
    "check_training_loop",
    "check_x_exp_y",
    "check_clip_hook",
    "check_jacobian",
    "check_target_loss",
    "check_weight_grad",
]
