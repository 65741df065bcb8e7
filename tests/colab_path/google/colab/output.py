"""``google.colab.output``: the custom widget manager switch, recorded (see the package)."""

from __future__ import annotations

#: How many times the kit turned Colab's custom widget manager on (it should be once).
custom_widget_manager_calls = 0
custom_widget_manager_enabled = False


def enable_custom_widget_manager() -> None:
    """Colab: let ipywidgets' own front end render widgets (needed for ipywidgets 8)."""
    global custom_widget_manager_calls, custom_widget_manager_enabled
    custom_widget_manager_calls += 1
    custom_widget_manager_enabled = True


def disable_custom_widget_manager() -> None:
    global custom_widget_manager_enabled
    custom_widget_manager_enabled = False
