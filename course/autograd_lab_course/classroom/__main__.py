"""``python -m autograd_lab.classroom``: see :mod:`autograd_lab.classroom.cli`."""

from autograd_lab.classroom.cli import main

raise SystemExit(main())
