"""A class on one hub: a local JupyterHub with nbgrader for a dry run of a course.

``python -m autograd_lab_course.classroom [--students N] [--port P] [--dir DIR]`` (``make
classroom``) starts JupyterHub on 127.0.0.1:P with accounts ``instructor`` and ``student1`` …
``studentN`` (random passwords, printed once), a home per account under ``DIR/home`` holding
the lessons, and an nbgrader exchange under ``DIR/exchange``. The instructor's JupyterLab has
nbgrader's formgrader on the course root ``DIR/home/instructor/course`` (a copy of
``notebooks/exercises``); students get the Assignments tab to fetch and submit, and none of
the teacher tools. Ctrl-C (or SIGTERM) stops the hub, its proxy and every single-user server.

Modules: :mod:`~.accounts` (passwords and their hashes), :mod:`~.layout` (what goes under DIR,
the per-role Jupyter overlays), :mod:`~.hub_plugins` (authenticator and spawner),
``jupyterhub_config.py`` (the hub's config file), :mod:`~.hub` (start/stop),
:mod:`~.client` (an HTTP client for scripting a class: the test and benchmarks use it),
:mod:`~.cli`.

Importing this package does not import JupyterHub (only the hub process does).
"""

from autograd_lab_course.classroom.hub import Classroom, ClassroomError, start_classroom

__all__ = ["Classroom", "ClassroomError", "start_classroom"]
