"""How the package's results show in Jupyter: typeset formulas and figures.

The result classes' ``_repr_*_`` methods (IPython's rich display protocol) call the
functions here, so a notebook cell that ends with a derived theory, a derivation, a bound,
a proof result or a phase sweep shows formulas and a phase diagram instead of a plain repr:

* :class:`~catapult_theory.symbolic.ModelTheory`: :func:`theory_latex` (the one-step map,
  the weight-norm lemma, the thresholds and the window as one ``aligned`` block) and
  :func:`theory_markdown` (the tables of ``catapult derive --format markdown``);
* :class:`~catapult_theory.symbolic.Derivation`: :func:`derivation_latex` (``f``, ``lam``
  and ``w2`` in the word algebra, the GD step of every parameter block);
* :class:`~catapult_theory.symbolic.BoundSpec`: :func:`bound_latex`;
* :class:`proofs.ProofResult`: :func:`proof_markdown` (its certificate, as
  ``catapult prove --format md`` writes it);
* :class:`~catapult_theory.experiments.PhaseSweep`: :func:`sweep_png` (the phase diagram
  of ``catapult phases --plot``) and :func:`sweep_html` (boundaries, bounds and phases
  beside that figure).

Every formula comes from the symbolic layer's LaTeX export
(:func:`~catapult_theory.symbolic.latex_rows` and its siblings), the same text
``catapult derive --format latex`` prints; nothing is written here a second time. This
module sits above every layer (it draws with :mod:`catapult_theory.report`); it is
imported with the package and registers its functions in
:mod:`catapult_theory.display_hooks`, where the classes' ``_repr_*_`` methods find them
(they cannot import the layers above them). Everything else is imported only when a
notebook asks for a display.
"""

from __future__ import annotations

import base64
import html
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from .experiments import PhaseSweep
    from .symbolic import BoundSpec, Derivation, ModelTheory

__all__ = ["aligned", "bound_latex", "derivation_latex", "proof_markdown", "sweep_html", "sweep_png",
           "theory_latex", "theory_markdown"]

#: the parts of :func:`~catapult_theory.symbolic.latex_rows` a theory shows, in order
THEORY_PARTS = ("update", "named", "lemma", "thresholds", "window")


def aligned(groups: Sequence[Sequence[str]]) -> str:
    """Display math of ``align*`` rows (``lhs &= rhs``): one ``aligned`` block between ``$$``,
    groups of rows separated by a little space. Jupyter (MathJax) and VS Code (KaTeX) both
    typeset it."""
    rows = [" \\\\\n".join(g) for g in groups if g]
    return "$$\n\\begin{aligned}\n" + " \\\\[6pt]\n".join(rows) + "\n\\end{aligned}\n$$"


def theory_latex(th: ModelTheory) -> str:
    """A derived theory as display math: the one-step map of ``(f, lam, w2)``, the named
    invariants it needs, the weight-norm lemma, the thresholds, ``K`` and the window."""
    from .symbolic import latex_rows

    rows = latex_rows(th)
    return aligned([rows[part] for part in THEORY_PARTS])


def theory_markdown(th: ModelTheory) -> str:
    """A derived theory as Markdown with inline math (``catapult derive --format markdown``)."""
    from .symbolic import export_markdown

    return export_markdown(th)


def derivation_latex(der: Derivation) -> str:
    """A derivation as display math (:func:`~catapult_theory.symbolic.derivation_latex_rows`)."""
    from .symbolic import derivation_latex_rows

    rows = derivation_latex_rows(der)
    return aligned([rows[:3], rows[3:]])


def bound_latex(spec: BoundSpec) -> str:
    """A bound as display math: its NTK inequality, ``K`` and the window end ``k_max``."""
    from .symbolic import bound_latex as rows

    return aligned([rows(spec).split(" \\\\\n")])


def proof_markdown(result: Any) -> str:
    """A proof result's certificate (Markdown with inline math), as ``catapult prove --format md``
    writes it for that one theorem."""
    import proofs

    return proofs.render([result], "md")


def sweep_png(sweep: PhaseSweep) -> bytes:
    """The phase diagram of a sweep (``catapult phases --plot``) as PNG bytes."""
    from .report import plot_phase_diagram

    with tempfile.TemporaryDirectory(prefix="catapult-display-") as folder:
        path = plot_phase_diagram(sweep, Path(folder) / "phases.png")
        return path.read_bytes()


def _number(v: Any) -> str:
    return "-" if v is None else f"{float(v):.6g}"


def sweep_html(sweep: PhaseSweep) -> str:
    """A sweep as HTML: its boundaries, its bounds (with their status) and the runs of each
    phase along ``k``, beside its phase diagram (the PNG of :func:`sweep_png`, embedded)."""
    from .families import phase_segments

    esc = html.escape
    rows = [f"<tr><th>{esc(name)}</th><td>{_number(v)}</td></tr>" for name, v in sweep.boundaries.items()]
    bounds = []
    for name, v in sweep.bounds.items():
        status = sweep.bound_status.get(name, {})
        kind = "rigorous" if status.get("rigorous") else "not rigorous"
        holds = "hypotheses hold" if status.get("hypotheses_hold") else "hypotheses do not hold"
        bounds.append(f"<tr><th>{esc(name)}</th><td>{_number(v)}</td><td>{kind}; {holds}</td></tr>")
    segments = [f"<tr><td>{lo:.4g}</td><td>{hi:.4g}</td><td>{esc(str(ph))}</td><td>{cnt}</td></tr>"
                for lo, hi, ph, cnt in phase_segments(sweep.k, sweep.phase)]
    png = base64.b64encode(sweep_png(sweep)).decode("ascii")
    k = sweep.k
    parts = [
        '<div class="catapult-sweep">',
        f"<p><b>{esc(sweep.model)}</b>: {len(k)} values of k = &eta;&lambda;<sub>0</sub> "
        f"from {float(k[0]):.4g} to {float(k[-1]):.4g}</p>" if len(k) else f"<p><b>{esc(sweep.model)}</b></p>",
        '<table class="boundaries"><caption>boundaries (k)</caption>', *rows, "</table>",
    ]
    if bounds:
        parts += ['<table class="bounds"><caption>bounds: predicted k_max</caption>', *bounds, "</table>"]
    parts += ['<table class="phases"><caption>phases along k</caption>',
              "<tr><th>from k</th><th>to k</th><th>phase</th><th>points</th></tr>", *segments, "</table>",
              f'<img alt="phase diagram of {esc(sweep.model)}" src="data:image/png;base64,{png}"/>', "</div>"]
    return "\n".join(parts)


def _register() -> None:
    from .display_hooks import register

    for kind in ("theory_latex", "theory_markdown", "derivation_latex", "bound_latex", "proof_markdown",
                 "sweep_png", "sweep_html"):
        register(kind, globals()[kind])


_register()
