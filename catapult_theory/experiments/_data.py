"""Loading data specs (:mod:`catapult_theory.data`): the shared data sets and the family's teacher."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ..data import TRAIN_SIZE, DataSpec, parse_data_spec
from ..errors import InvalidInput
from ._dataset import Dataset
from ._images import image_data

__all__ = ["load_data", "named_data"]


def _toy(spec: DataSpec) -> Dataset:
    from ._digits import toy_data

    if ":" not in spec.text:
        return toy_data()
    return Dataset(name=spec.text.strip(), description=f"one datum x = [{spec.x:g}] (d = 1), y = [{spec.y:g}]",
                   X=np.array([[spec.x]]), y=np.array([spec.y]))


def load_data(spec: DataSpec | str, *, seed: int = 0, train_size: int = TRAIN_SIZE,
              data_dir: str | os.PathLike[str] | None = None,
              teacher: Callable[[DataSpec], Dataset] | None = None) -> Dataset:
    """The data set of ``spec``: toy, digits and images are the same for every family;
    ``random`` asks the family's ``teacher(spec)`` (:class:`InvalidInput` without one)."""
    sp_ = parse_data_spec(spec) if isinstance(spec, str) else spec
    if sp_.kind == "toy":
        return _toy(sp_)
    if sp_.kind == "random":
        if teacher is None:
            raise InvalidInput(f"bad data spec {sp_.text!r}: this model has no teacher for random data")
        return teacher(sp_)
    if sp_.kind == "digits01":
        from ._digits import digits01

        try:
            return digits01(train_size=train_size, seed=seed)
        except ImportError as exc:
            raise InvalidInput(str(exc).splitlines()[0]) from None
    assert sp_.image is not None
    return image_data(sp_.image, seed=seed, train_size=train_size, data_dir=data_dir)


def named_data(spec: str, seed: int = 0, train_size: int = TRAIN_SIZE,
               data_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """A data set by name: ``toy``, ``toy:X:Y``, ``digits01`` or an image spec
    (:func:`load_data` without a teacher: ``random`` specs need a family's)."""
    return load_data(spec, seed=seed, train_size=train_size, data_dir=data_dir)
