"""The course tooling around the ``autograd_lab`` package: what a teacher runs, not what a
learner imports.

* :mod:`~autograd_lab_course.lab_launcher`: ``make lab``, JupyterLab on a student copy
  (``python -m autograd_lab_course.lab_launcher``; :mod:`~.lab_env` its server environment);
* :mod:`~autograd_lab_course.workspace`: that student copy (``python -m
  autograd_lab_course.workspace DEST``), with the kernel metadata each copy names;
* :mod:`~autograd_lab_course.ports`: a free port no kernel or connection takes first;
* :mod:`~autograd_lab_course.classroom`: ``make classroom``, a local JupyterHub with nbgrader;
* :mod:`~autograd_lab_course.grading`: autograding with kernels forked from a process that
  imported torch once.

Its own distribution (``course/pyproject.toml``, ``autograd-lab-course``), installed editable
beside ``autograd_lab`` by ``make env``. Importing it, or any of its modules, imports no torch
(nor ``autograd_lab``): a Jupyter server, JupyterHub and nbgrader's process never need it;
only the kernels do.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["REPO"]

#: The clone this package runs from (an editable install: ``course/autograd_lab_course/``):
#: it holds ``notebooks/``, the git-ignored ``workspace/`` and ``classroom/``, ``.npm-tools/``.
REPO = Path(__file__).resolve().parents[2]
