"""The old command lines of the course tools (``python -m autograd_lab.lab``, ``.workspace``,
``.classroom``), kept as aliases of :mod:`autograd_lab_course`'s own."""

from __future__ import annotations

import importlib
import sys

#: What an alias says when the course package is not installed (a learner's ``pip install``).
NOT_INSTALLED = ("The course tools are not installed: run `make env` in a clone of autograd-lab "
                 "(or `pip install -e course` there).")


def run(module: str) -> None:
    """Run ``module``'s ``main()`` with this process's arguments and exit with its status."""
    try:
        main = importlib.import_module(module).main
    except ModuleNotFoundError as error:
        if not (error.name and module.startswith(error.name)):
            raise  # the course package is there; something it needs is not
        sys.exit(NOT_INSTALLED)
    sys.exit(main())
