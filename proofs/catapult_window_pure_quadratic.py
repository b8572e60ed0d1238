"""``catapult-window-pure-quadratic``: one datum, y = 0, along the GD iterates inside the
window of the catalogue's ``single`` bound (see :mod:`._window`)."""

from ._window import window_theorem

ID = "catapult-window-pure-quadratic"


def theorem(model: str | None = None):
    return window_theorem(ID, "pure-quadratic", "single", "ntk_bound_pure_quadratic")
