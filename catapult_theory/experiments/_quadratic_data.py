"""Datasets for the quadratic models: the toy datum and teacher–student data.

Spec strings (:func:`quadratic_data`; the grammar of every family, :mod:`._data`):

``toy``
    One datum ``x = [1.0]`` (``d = 1``), ``y = [0.0]``; no test set.
``toy:X:Y``
    One datum ``x = [X]``, ``y = [Y]``; no test set.
``random:B:D[:T]``
    ``B`` inputs in ``R^D``, i.i.d. coordinates from ``inputs`` (default
    ``normal:0:1``, so ``E|x|² = D``), and a held-out test set of
    ``T`` (default ``test_size``) inputs drawn the same way. Labels from a teacher model
    (``labels="teacher"``) or i.i.d. from a named distribution (e.g.
    ``labels="normal:0:1"``).
``digits01``, ``digits:A:B``, ``mnist:A:B``, ... (:mod:`._images`)
    The image data sets, as for the nets (labels ±1).

Teacher. The teacher is a model of the student's family with the *same*
meta-features and features (the :class:`QuadraticModel` passed in; pass a
model built with another seed for independent features) and its own
parameters ``θ ~ N(0, 1)`` from the ``"teacher"`` stream of ``seed``.
Masking: the teacher uses only part of the features: its last ``mask_psi``
coordinates of ``θ_ψ`` and its last ``mask_phi`` coordinates of ``θ_φ`` are
set to zero (so ``f_teacher`` ignores those directions of ``ψ`` and ``φ``).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInput
from ..data import parse_data_spec
from ._data import load_data
from ._dataset import Dataset
from ..engine import (
    QuadraticModel,
    QuadraticParams,
    parse_distribution,
    quadratic_output,
    rng_stream,
)

__all__ = ["quadratic_data", "teacher_params", "data_dimension"]


def teacher_params(model: QuadraticModel, seed: int = 0, mask_psi: int = 0, mask_phi: int = 0) -> QuadraticParams:
    """Teacher parameters: ``θ_ψ`` then ``θ_φ`` i.i.d. N(0, 1) from the ``"teacher"``
    stream of ``seed``, with the last ``mask_psi`` (``mask_phi``) coordinates of
    ``θ_ψ`` (``θ_φ``) set to zero."""
    for name, v, top in (("mask_psi", mask_psi, model.m), ("mask_phi", mask_phi, model.p)):
        if isinstance(v, bool) or int(v) != v or not 0 <= v <= top:
            raise InvalidInput(f"{name} must be an integer in [0, {top}], got {v!r}")
    rng = rng_stream(seed, "teacher")
    theta_psi = rng.standard_normal(model.m)
    theta_phi = rng.standard_normal(model.p)
    theta_psi[model.m - int(mask_psi):] = 0.0
    theta_phi[model.p - int(mask_phi):] = 0.0
    return QuadraticParams(theta_psi, theta_phi)


def data_dimension(spec: str) -> int:
    """Input dimension of the data named by ``spec`` (``InvalidInput`` for a bad spec)."""
    return parse_data_spec(spec).dim


def quadratic_data(
    spec: str,
    teacher: QuadraticModel | None = None,
    *,
    test_size: int = 512,
    mask_psi: int = 0,
    mask_phi: int = 0,
    inputs: str = "normal:0:1",
    labels: str = "teacher",
    seed: int = 0,
) -> Dataset:
    """Build the dataset named by ``spec`` (see the module docstring).

    Parameters
    ----------
    spec
        A data spec (:mod:`._data`).
    teacher
        The model whose meta-features (and features) the teacher uses;
        required for ``random`` specs with ``labels="teacher"``, its input
        dimension must be ``D``. Ignored for ``toy``.
    test_size
        Size of the held-out test set of a ``random`` spec without its own ``T`` (``0``: none).
    mask_psi, mask_phi
        Teacher coordinates of ``θ_ψ`` / ``θ_φ`` set to zero (the last ones).
    inputs
        Distribution of every input coordinate (``"uniform:A:B"``,
        ``"normal:M:S"`` or ``"const:C"``).
    labels
        ``"teacher"`` or a distribution of i.i.d. labels.
    seed
        Seed of the ``"inputs"`` (train, then test), ``"teacher"`` and
        ``"labels"`` (train, then test) streams.
    """
    parsed = parse_data_spec(spec)
    if parsed.kind == "toy":
        x, yv = parsed.x, parsed.y
        return Dataset(
            name=spec.strip(),
            description=f"one datum x = {x:g}, y = {yv:g}",
            X=np.array([[x]]),
            y=np.array([yv]),
        )
    if parsed.kind != "random":
        return load_data(parsed, seed=seed)
    B, D = parsed.B, parsed.D
    if isinstance(test_size, bool) or int(test_size) != test_size or test_size < 0:
        raise InvalidInput(f"test_size must be a non-negative integer, got {test_size!r}")
    test_size = int(test_size) if parsed.T is None else parsed.T
    in_dist = parse_distribution(inputs, what="inputs")
    rng_in = rng_stream(seed, "inputs")
    X = in_dist.sample(rng_in, (B, D))
    X_test = in_dist.sample(rng_in, (test_size, D)) if test_size else None
    if labels == "teacher":
        if teacher is None:
            raise InvalidInput("labels='teacher' needs a teacher model")
        if teacher.d != D:
            raise InvalidInput(f"the teacher takes inputs of dimension {teacher.d}, the spec asks for D = {D}")
        theta = teacher_params(teacher, seed, mask_psi, mask_phi)
        y = quadratic_output(teacher, theta, X)
        y_test = quadratic_output(teacher, theta, X_test) if X_test is not None else None
        masked = []
        if mask_psi:
            masked.append(f"{mask_psi} of {teacher.m} θ_ψ")
        if mask_phi:
            masked.append(f"{mask_phi} of {teacher.p} θ_φ")
        label_text = (
            f"labels from a {teacher.family} quadratic teacher (rank {teacher.m}"
            + (f", {teacher.p} features" if teacher.p else "")
            + f", g = {teacher.activation}"
            + (f"; masked: {', '.join(masked)} coordinates" if masked else "")
            + ")"
        )
    else:
        if mask_psi or mask_phi:
            raise InvalidInput("masking applies to teacher labels only")
        lab_dist = parse_distribution(labels, what="labels")
        rng_lab = rng_stream(seed, "labels")
        y = lab_dist.sample(rng_lab, B)
        y_test = lab_dist.sample(rng_lab, test_size) if test_size else None
        label_text = f"labels i.i.d. {lab_dist}"
    description = (
        f"{B} inputs in R^{D}, coordinates i.i.d. {in_dist}; {label_text}; "
        + (f"{test_size} test points drawn the same way" if test_size else "no test set")
    )
    return Dataset(spec.strip(), description, X, np.asarray(y, dtype=float), X_test,
                         None if y_test is None else np.asarray(y_test, dtype=float))
