"""Phase boundaries: first grid transition, refined by vectorised multisection.

A boundary is reported as a number only when it is known to its tolerance; otherwise
it is an interval with a flag (:class:`BoundaryMap`): ``refined`` (converged to the
tolerance: the number is the midpoint of an interval narrower than it), ``grid``
(not refined: the number is the first grid point past the transition, the interval
the grid cell), ``unconverged`` (refinement stopped short: no number, the interval),
``below_grid`` (already there at the first grid point: no number, the boundary is at
most ``k_min``) and ``not_found`` (never on the grid: no number). A grid too coarse to
show what lies between two boundaries, or a flag that flips more than once along the
grid, gives a warning (a line in text, the ``warnings`` field in JSON).

``largest_convergent`` (:data:`LARGEST_CONVERGENT`) is the other edge: its flag is
"the run converges" (phase ``lazy`` or ``catapult``) and the boundary is the *largest*
grid ``k`` whose run converges, refined between it and the next grid point (in that
bracket the multisection keeps the largest converging point it finds). Its flags read
the other way round: ``below_grid`` when no run on the grid converges (interval
``[None, k_min]``), ``not_found`` when the last grid point converges (interval
``[k_max, None]``), ``grid`` with that largest converging grid point as the number.
Its details list the convergent *islands*: maximal runs of converging grid points
above the first divergent one (:func:`convergent_islands`), where a boundary read as
"the first transition" would hide them.
"""

from __future__ import annotations

from typing import Any, Callable, Collection, Mapping

import numpy as np

from ..engine import classify, rose
from ..errors import InvalidInput

__all__ = ["CONVERGENT_PHASES", "LARGEST_CONVERGENT", "REFINE_POINTS", "BoundaryMap", "Evaluate", "refinement_batch",
           "phase_flags", "first_transition", "last_transition", "convergent_islands", "refine_brackets",
           "refine_boundary", "refine_boundaries", "grid_boundaries", "final_values"]

#: the boundary at the largest grid ``k`` whose run converges (module docstring)
LARGEST_CONVERGENT = "largest_convergent"
#: the phases of a run that converges
CONVERGENT_PHASES = ("lazy", "catapult")


#: interior points per bracket and round of the multisection
REFINE_POINTS = 15


def refinement_batch(boundaries: int) -> int:
    """Runs in one batched round of :func:`grid_boundaries` refining ``boundaries`` jointly."""
    return boundaries * REFINE_POINTS


def first_transition(k: np.ndarray, flags: np.ndarray) -> tuple[float, float] | None:
    """Bracket ``(k_lo, k_hi)`` around the first grid point where ``flags`` turns true.

    ``None`` if the flag never turns true on the grid, or is already true at
    the first grid point (the boundary is then not in range).
    """
    k = np.asarray(k, dtype=float)
    flags = np.asarray(flags, dtype=bool)
    if not flags.any() or flags[0]:
        return None
    i = int(np.argmax(flags))
    return float(k[i - 1]), float(k[i])


def last_transition(k: np.ndarray, flags: np.ndarray) -> tuple[float, float] | None:
    """Bracket ``(k_lo, k_hi)``: ``k_lo`` the last grid point where ``flags`` is true, ``k_hi``
    the next one. ``None`` if the flag is never true, or true at the last grid point."""
    k = np.asarray(k, dtype=float)
    flags = np.asarray(flags, dtype=bool)
    if not flags.any() or flags[-1]:
        return None
    i = int(np.flatnonzero(flags)[-1])
    return float(k[i]), float(k[i + 1])


def convergent_islands(k: np.ndarray, converges: np.ndarray, diverges: np.ndarray,
                       phase: Any = None) -> list[dict[str, Any]]:
    """The maximal runs of converging grid points above the first divergent grid point:
    per island its ``interval`` ``[k_lo, k_hi]`` (its first and last grid point), the grid
    values ``k``, their ``phases`` (``phase`` per grid point; ``"converges"`` without it)
    and the ``bracket`` of grid points around it that do not converge (``None`` past the
    grid's end). Empty when nothing diverges on the grid, or nothing converges above it."""
    k = np.asarray(k, dtype=float)
    conv = np.asarray(converges, dtype=bool)
    div = np.asarray(diverges, dtype=bool)
    if not div.any():
        return []
    first = int(np.argmax(div))
    out: list[dict[str, Any]] = []
    i = first + 1
    while i < k.size:
        if not conv[i]:
            i += 1
            continue
        j = i
        while j + 1 < k.size and conv[j + 1]:
            j += 1
        out.append({"interval": [float(k[i]), float(k[j])], "k": [float(x) for x in k[i:j + 1]],
                    "phases": [str(phase[m]) if phase is not None else "converges" for m in range(i, j + 1)],
                    "bracket": [float(k[i - 1]), float(k[j + 1]) if j + 1 < k.size else None]})
        i = j + 1
    return out


def _rounds(lo: np.ndarray, hi: np.ndarray, tol: float, points: int) -> int:
    """Rounds of ``points``-section that bring the widest bracket below ``tol`` (+ 1 spare)."""
    widest = float(np.max(hi - lo))
    return max(1, int(np.ceil(np.log(widest / tol) / np.log(points + 1))) + 1)


def _multisect(
    flags_of: Callable[[np.ndarray, np.ndarray], np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    tol: float,
    points: int,
    max_rounds: int,
    only_open: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The multisection loop of :func:`refine_brackets`: ``flags_of(rows, grid)`` gives the
    flags of ``grid`` (``(len(rows), points)``, one row per bracket in ``rows``). With
    ``only_open`` a round evaluates only the brackets still wider than ``tol``."""
    frac = np.linspace(0.0, 1.0, points + 2)[1:-1]
    for _ in range(max_rounds):
        open_ = hi - lo > tol
        if not open_.any():
            break
        rows = np.flatnonzero(open_) if only_open else np.arange(lo.size)
        grid = lo[rows, None] + (hi - lo)[rows, None] * frac[None, :]
        flags = np.asarray(flags_of(rows, grid), dtype=bool).reshape(grid.shape)
        anyf = flags.any(axis=1)
        i = np.argmax(flags, axis=1)
        at = np.arange(rows.size)
        new_hi = np.where(anyf, grid[at, i], hi[rows])
        new_lo = np.where(anyf, np.where(i > 0, grid[at, np.maximum(i - 1, 0)], lo[rows]), grid[:, -1])
        lo, hi = lo.copy(), hi.copy()
        lo[rows], hi[rows] = new_lo, new_hi
    return lo, hi


def refine_brackets(
    predicate: Callable[[np.ndarray], np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    tol: float = 1e-6,
    points: int = REFINE_POINTS,
    max_rounds: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The final brackets ``(lo, hi)`` of :func:`refine_boundaries` (which see), whether or
    not they reached the tolerance: the caller reports the unconverged ones as intervals."""
    lo = np.array(lo, dtype=float, ndmin=1)
    hi = np.array(hi, dtype=float, ndmin=1)
    _check_brackets(lo, hi, tol)
    if max_rounds is None:
        max_rounds = _rounds(lo, hi, tol, points)
    return _multisect(lambda rows, grid: predicate(grid), lo, hi, tol, points, max_rounds, only_open=False)


def _check_brackets(lo: np.ndarray, hi: np.ndarray, tol: float) -> None:
    if lo.shape != hi.shape or np.any(~(lo < hi)):
        raise InvalidInput("every bracket needs lo < hi")
    if not tol > 0:
        raise InvalidInput(f"tol must be positive, got {tol}")


def refine_boundaries(
    predicate: Callable[[np.ndarray], np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    tol: float = 1e-6,
    points: int = REFINE_POINTS,
    max_rounds: int | None = None,
) -> np.ndarray:
    """Refine many brackets at once.

    ``predicate`` takes an array of shape ``(P, points)`` (row ``p`` belongs to
    bracket ``p``) and returns booleans of that shape; it must be false at each
    ``lo`` and true at each ``hi``. Each round evaluates ``points`` interior
    points of every bracket in one call and keeps the sub-bracket around the
    first true point: brackets shrink by exactly ``points + 1`` per round, so
    ``ceil(log(width / tol) / log(points + 1))`` rounds reach the tolerance
    (the default ``max_rounds``; a bracket of width 1e100 needs 89). Returns the
    midpoints of the final brackets (widths below ``tol``); a smaller
    ``max_rounds`` that stops short raises ``RuntimeError`` rather than return an
    unconverged midpoint (:func:`refine_brackets` returns the brackets instead).
    """
    lo, hi = refine_brackets(predicate, lo, hi, tol, points, max_rounds)
    if np.any(hi - lo > tol):
        raise RuntimeError(f"boundary refinement stopped after {max_rounds} rounds with brackets up to "
                           f"{float(np.max(hi - lo)):.3g} wide (tolerance {tol})")
    return 0.5 * (lo + hi)


def refine_boundary(
    predicate: Callable[[np.ndarray], np.ndarray],
    bracket: tuple[float, float],
    tol: float = 1e-6,
    points: int = REFINE_POINTS,
    max_rounds: int | None = None,
) -> float:
    """Refine one bracket ``(lo, hi)`` (``predicate`` false at ``lo``, true at ``hi``).

    ``predicate`` takes a 1-D array of ``k`` values.
    """
    out = refine_boundaries(lambda g: predicate(g[0])[None, :], np.array([bracket[0]]), np.array([bracket[1]]),
                            tol, points, max_rounds)
    return float(out[0])


#: ``k`` values closer than this (relative) are run once by a joint predicate
_SAME_K = 1e-12


def _merge_close(ks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``ks`` (values within :data:`_SAME_K` of the previous one, relative,
    merged into it) and the index of each entry's value: brackets that two boundaries share
    (a largest convergent ``k`` and a divergence in one grid cell) cost one run per point."""
    order = np.argsort(ks, kind="stable")
    srt = ks[order]
    scale = np.maximum(np.abs(srt[1:]), np.abs(srt[:-1]))
    new = np.concatenate([[True], np.diff(srt) > _SAME_K * scale])
    group = np.cumsum(new) - 1
    back = np.empty(ks.size, dtype=np.int64)
    back[order] = group
    return srt[new], back


class BoundaryMap(dict):
    """``name -> value`` (a number only when known: refined to its tolerance, or the grid
    point with ``grid`` status), with per boundary ``details`` (``status``, ``interval``,
    ``tol``) and the sweep's ``warnings``; see the module docstring."""

    def __init__(self, values: dict[str, float | None], details: dict[str, dict[str, Any]],
                 warnings: list[str]) -> None:
        super().__init__(values)
        self.details = details
        self.warnings = warnings


def _flips(flags: np.ndarray) -> int:
    return int(np.count_nonzero(flags[1:] != flags[:-1]))


#: every boundary's flags from one batched run at the given ``k`` values (a joint predicate)
Evaluate = Callable[[np.ndarray], Mapping[str, np.ndarray]]


def phase_flags(traj: Any, criteria: Any, collapsed: np.ndarray | None = None,
                phase: Any = None) -> dict[str, np.ndarray]:
    """The boundary flags of a batch of runs: ``catapult_onset`` (the loss rose),
    ``divergence`` (blew up), given ``collapsed`` ``collapse``, and ``largest_convergent``
    (the run converges: its phase, :func:`~catapult_theory.engine.classify` unless
    given, is one of :data:`CONVERGENT_PHASES`)."""
    out = {"catapult_onset": rose(traj, criteria), "divergence": traj.diverged_at >= 0}
    if collapsed is not None:
        out["collapse"] = np.asarray(collapsed, dtype=bool)
    if phase is None:
        phase = classify(traj, criteria, collapsed=collapsed)
    out[LARGEST_CONVERGENT] = np.isin(np.asarray(phase, dtype=object).astype(str), CONVERGENT_PHASES)
    return out


def grid_boundaries(
    k: np.ndarray,
    flags: dict[str, np.ndarray],
    predicates: Mapping[str, Callable[[np.ndarray], np.ndarray]] | Evaluate | None,
    tol: float,
    max_rounds: int | None = None,
    points: int = REFINE_POINTS,
    refine: Collection[str] | None = None,
    phase: Any = None,
) -> BoundaryMap:
    """Each named boundary: the first grid transition of its flags (for
    :data:`LARGEST_CONVERGENT` the last grid point where it is true), refined by
    multisection (``predicates=None``: at grid resolution). A :class:`BoundaryMap`:
    values, ``details`` (status and interval of each; ``largest_convergent`` also its
    ``tol`` and ``islands``, :func:`convergent_islands` with the ``phase`` of each grid
    point) and ``warnings``.

    ``predicates`` is either one function ``ks -> {name: flags}`` (a joint predicate:
    one batched run gives every boundary's flags, so each round of multisection refines
    all boundaries in one call, and a ``k`` two brackets share is run once) or
    ``{name: ks -> flags}`` (one call per boundary and round). A round evaluates only
    the brackets not yet narrower than ``tol``. ``refine``: the boundaries to refine
    (default all); the others are reported at grid resolution in the same map, so its
    warnings see every boundary.
    """
    k = np.asarray(k, dtype=float)
    values: dict[str, float | None] = {}
    details: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    pending: list[tuple[str, tuple[float, float]]] = []
    for name, fl in flags.items():
        fl = np.asarray(fl, dtype=bool)
        last = name == LARGEST_CONVERGENT
        bracket = last_transition(k, fl) if last else first_transition(k, fl)
        if bracket is None:
            # below_grid: the first grid point is already past it (for the largest convergent
            # k: no grid point converges); not_found: the grid never gets past it
            below = bool(fl.size) and (not fl.any() if last else bool(fl[0]))
            values[name] = None
            details[name] = {"status": "below_grid" if below else "not_found",
                             "interval": [None, float(k[0])] if below else [float(k[-1]), None]}
            continue
        if not last and _flips(fl) > 1:
            warnings.append(f"{name}: the flag changes more than once along the grid ({_flips(fl)} times); "
                            "the boundary reported is its first transition")
        if predicates is None or (refine is not None and name not in refine):
            values[name] = bracket[0] if last else bracket[1]
            details[name] = {"status": "grid", "interval": list(bracket)}
        else:
            pending.append((name, bracket))
    if pending:
        assert predicates is not None
        names = [n for n, _ in pending]
        # a largest-convergent bracket is searched from its upper end: in u = -k the first
        # converging point of the multisection is the largest converging k of the bracket
        sign = np.array([-1.0 if n == LARGEST_CONVERGENT else 1.0 for n in names])
        lo0 = np.array([br[1] if n == LARGEST_CONVERGENT else br[0] for n, br in pending]) * sign
        hi0 = np.array([br[0] if n == LARGEST_CONVERGENT else br[1] for n, br in pending]) * sign
        _check_brackets(lo0, hi0, tol)

        def flags_of(rows: np.ndarray, grid: np.ndarray) -> np.ndarray:
            ks = grid * sign[rows, None]
            if callable(predicates):  # one batched run for every open bracket, each k once
                uniq, back = _merge_close(ks.reshape(-1))
                got = predicates(uniq)
                return np.stack([np.asarray(got[names[r]], dtype=bool)[back].reshape(ks.shape)[j]
                                 for j, r in enumerate(rows)])
            return np.stack([np.asarray(predicates[names[r]](ks[j]), dtype=bool) for j, r in enumerate(rows)])

        rounds = _rounds(lo0, hi0, tol, points) if max_rounds is None else max_rounds
        lo, hi = _multisect(flags_of, lo0, hi0, tol, points, rounds, only_open=True)
        for j, name in enumerate(names):
            lo_, hi_ = sorted((float(lo[j] * sign[j]), float(hi[j] * sign[j])))
            converged = hi_ - lo_ <= tol
            values[name] = 0.5 * (lo_ + hi_) if converged else None
            details[name] = {"status": "refined" if converged else "unconverged", "interval": [lo_, hi_],
                             "tol": tol}
            if not converged:
                warnings.append(f"{name}: refinement did not reach the tolerance {tol:g}; the boundary lies in "
                                f"[{lo_:.6g}, {hi_:.6g}]")
    values = {n: values[n] for n in flags}  # the order of ``flags``
    details = {n: details[n] for n in flags}
    if LARGEST_CONVERGENT in flags:
        d = details[LARGEST_CONVERGENT]
        d.setdefault("tol", None)
        d["islands"] = convergent_islands(k, flags[LARGEST_CONVERGENT],
                                          flags.get("divergence", np.zeros(k.shape, dtype=bool)), phase)
    # two boundaries in one grid cell: what lies between them is never sampled by the grid (the
    # largest convergent k is the other edge of a transition another boundary marks: left out)
    located = sorted((d["interval"][0], d["interval"][1], n) for n, d in details.items()
                     if d["status"] in ("refined", "unconverged", "grid") and n != LARGEST_CONVERGENT)
    cells = {n: int(np.searchsorted(k, 0.5 * (lo + hi))) for lo, hi, n in located}
    for (_, _, a), (_, _, b) in zip(located, located[1:]):
        if cells[a] == cells[b]:
            c = cells[a]
            warnings.append(f"grid too coarse: {a} and {b} fall between the same grid points "
                            f"k = {k[c - 1]:.6g} and {k[c]:.6g}, so no grid point shows the phase between "
                            "them; use a finer grid, a smaller --k-max or --k-scale log")
    return BoundaryMap(values, details, warnings)


def final_values(traj, eta: np.ndarray, w2_0: float | np.ndarray,
                 extra: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Per run, the final ``eta*lam``, ``w2/w2_0``, peak and final loss (and the
    final value of each ``extra`` series present); NaN for diverged runs, which
    have no final state."""
    div = traj.diverged_at >= 0
    out = {
        "lam_eta": np.where(div, np.nan, eta * traj.final("lam")),
        "w2_ratio": np.where(div, np.nan, traj.final("w2") / w2_0),
        "peak_loss": np.where(div, np.nan, traj.peak_loss()),
        "train_loss": np.where(div, np.nan, traj.final("loss")),
    }
    for name in extra:
        if name in traj.extra:
            out[name] = np.where(div, np.nan, traj.final(name))
    return out
