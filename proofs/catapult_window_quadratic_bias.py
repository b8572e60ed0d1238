"""``catapult-window-quadratic-bias``: one datum, y = 0, along the GD iterates inside the
window of the catalogue's ``feature`` bound (see :mod:`._window`)."""

from ._window import window_theorem

ID = "catapult-window-quadratic-bias"


def theorem(model: str | None = None):
    return window_theorem(ID, "quadratic-bias", "feature", "ntk_bound_quadratic_bias")
