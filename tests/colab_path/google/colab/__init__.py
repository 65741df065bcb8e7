"""A stand-in for Colab's ``google.colab`` module (``make test-colab`` puts it on the path).

Only what the kit touches: ``google.colab.output.enable_custom_widget_manager()``, which
``autograd_lab.notebook_setup()`` calls once when it sees ``google.colab`` imported. Like the
unit tests' fake (tests/test_package.py), it records the call instead of talking to a page.
Importing this package marks the runtime as Colab, as importing the real one does there.
"""

from google.colab import output

__all__ = ["output"]
