"""The data-set record shared by every experiment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput

__all__ = ["Dataset"]


def _readonly(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Dataset:
    """A training set ``X`` ``(B, d)``, ``y`` ``(B,)`` and an optional test set.

    Arrays are stored as read-only float64 copies. ``description`` states
    where the data come from and how they were preprocessed.
    """

    name: str
    description: str
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    def __post_init__(self) -> None:
        for attr in ("X", "y", "X_test", "y_test"):
            object.__setattr__(self, attr, _readonly(getattr(self, attr)))
        X, y = self.X, self.y
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1 or y.shape != (X.shape[0],):
            raise InvalidInput(f"X must be (B, d) with B, d >= 1 and y (B,), got {X.shape} and {y.shape}")
        if (self.X_test is None) != (self.y_test is None):
            raise InvalidInput("give both X_test and y_test or neither")
        Xt, yt = self.X_test, self.y_test
        if Xt is not None and yt is not None and (
            Xt.ndim != 2 or Xt.shape[0] < 1 or Xt.shape[1] != X.shape[1] or yt.shape != (Xt.shape[0],)
        ):
            raise InvalidInput(f"test set of shapes {Xt.shape}, {yt.shape} does not fit X {X.shape}")
        for a in (self.X, self.y, self.X_test, self.y_test):
            if a is not None and not np.all(np.isfinite(a)):
                raise InvalidInput("data must be finite")

    @property
    def B(self) -> int:
        """Number of training points."""
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        """Input dimension."""
        return int(self.X.shape[1])

    @property
    def has_test(self) -> bool:
        """Whether a test set is attached."""
        return self.X_test is not None

    @property
    def B_test(self) -> int:
        """Number of test points (0 without a test set)."""
        return 0 if self.X_test is None else int(self.X_test.shape[0])

    @property
    def test(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(X_test, y_test)`` or ``None``."""
        if self.X_test is None or self.y_test is None:
            return None
        return (self.X_test, self.y_test)
