"""``catapult-window-uv``: one datum, y = 0, along the GD iterates inside the
window of the catalogue's ``lemma`` bound (see :mod:`._window`)."""

from ._window import window_theorem

ID = "catapult-window-uv"


def theorem(model: str | None = None):
    return window_theorem(ID, "uv", "lemma", "ntk_bound_uv")
