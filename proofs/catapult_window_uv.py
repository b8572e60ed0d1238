"""``catapult-window-uv``: one datum, y = 0, 2 < eta lam_0 < k_max of the ``lemma``
bound => the loss converges to 0 and eta lam_inf <= 2 (see :mod:`._window`)."""

from ._window import window_theorem

ID = "catapult-window-uv"


def theorem(model: str | None = None):
    return window_theorem(ID, "uv", "lemma")
