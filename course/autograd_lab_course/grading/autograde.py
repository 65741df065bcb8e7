"""nbgrader's autograding with forked kernels: :class:`WarmExecute` and the preprocessor list.

:class:`WarmExecute` is nbgrader's ``Execute`` preprocessor whose kernels are launched by
:class:`~autograd_lab_course.grading.warm_kernels.WarmProvisioner` (each one forked from a process
that imported torch once). The course's ``nbgrader_config.py``, the classroom's instructor
config and ``deploy/`` select it with ``Autograde.autograde_preprocessors`` set to
:func:`autograde_preprocessors`: nbgrader's own list with ``Execute`` replaced (``Execute.*``
settings still apply to it).

A module of its own because it imports nbgrader (seconds): a Jupyter server that only launches
kernels with the provisioner loads :mod:`~autograd_lab_course.grading.warm_kernels`, not this.
"""

from __future__ import annotations

import importlib
from typing import Any

from nbgrader.preprocessors import Execute

from autograd_lab_course.grading.warm_kernels import WarmKernelManager

__all__ = ["WarmExecute", "autograde_preprocessors"]


class WarmExecute(Execute):
    """nbgrader's Execute preprocessor, with each kernel forked from a forker."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", WarmKernelManager)
        super().__init__(**kwargs)


def autograde_preprocessors() -> list[str]:
    """nbgrader's ``Autograde.autograde_preprocessors``, ``Execute`` replaced by WarmExecute,
    as dotted names (``nbgrader.preprocessors.X``) for a JSON or Python nbgrader config."""
    from nbgrader.converters.autograde import Autograde

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [f"{__name__}.WarmExecute" if pp is Execute else _public_name(pp) for pp in default]


def _public_name(cls: type) -> str:
    """``package.preprocessors.Name`` where the package exports it there, else its module."""
    public = cls.__module__.split(".")[0] + ".preprocessors"
    if getattr(importlib.import_module(public), cls.__name__, None) is cls:
        return f"{public}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__name__}"
