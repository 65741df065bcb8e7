"""Exercise checks with feedback that names the mistake.

Every check compares a student's answer with the truth computed independently (torch autograd
in float64, cross-checked by a central difference) and returns a :class:`Verdict`
``(ok, mistake, message)`` whose repr is one line, e.g.
``✗ Not quite: it looks like you left out the inner derivative … (missing_chain_factor)``.
A check never raises on an answer; ``...`` or None reports "not attempted yet".

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

from autograd_lab.exercises.accumulation import check_grad_sequence, check_intermediate_grad
from autograd_lab.exercises.choices import check_no_grad_choice
from autograd_lab.exercises.engine import check_backward_order, check_sin, check_x_exp_y
from autograd_lab.exercises.finite_difference import check_central_difference
from autograd_lab.exercises.gradients import EXERCISES, check_gradient
from autograd_lab.exercises.graph_building import check_bend_grad, check_loop_grad
from autograd_lab.exercises.graph_nodes import check_graph_nodes
from autograd_lab.exercises.higher_order import check_hvp, check_second_derivative, check_slope
from autograd_lab.exercises.loops import check_no_grad_loop, check_training_loop
from autograd_lab.exercises.modes import check_jacobian_column, check_jvp, check_mode_choice
from autograd_lab.exercises.network import (
    check_layer_parameters,
    check_mlp_zero_grad,
    check_train_loop,
)
from autograd_lab.exercises.tensors import (
    check_clip_hook,
    check_jacobian,
    check_target_loss,
    check_weight_grad,
)
from autograd_lab.exercises.vector_products import check_bias_grad, check_vjp
from autograd_lab.exercises.verdict import MISTAKES, Verdict

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
