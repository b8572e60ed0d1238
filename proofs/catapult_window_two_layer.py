"""``catapult-window-two-layer``: one datum, y = 0, along the GD iterates inside the
window of the catalogue's ``single`` bound (see :mod:`._window`)."""

from ._window import window_theorem

ID = "catapult-window-two-layer"


def theorem(model: str | None = None):
    return window_theorem(ID, "two-layer", "single", "ntk_bound_two_layer")
