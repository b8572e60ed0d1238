"""Jupyter display of the package's results: a derived theory, a derivation and a bound as
typeset math that SymPy's LaTeX parser reads back to the derived expressions, a proof
result as its certificate, a sweep as its phase diagram (PNG) and an HTML summary; each
check also shown to catch a broken display."""

import base64
import dataclasses
import io
import re
from html.parser import HTMLParser

import numpy as np
import pytest
import sympy as sp

from catapult_theory.symbolic import bound_catalog, export_markdown, theory
from catapult_theory.symbolic import symbols as S
from tests.symbolic.test_export import _latex, _need_parser, _read_back

PNG = b"\x89PNG\r\n\x1a\n"


def _aligned_rows(tex: str) -> list[tuple[str, str, str]]:
    """``(lhs, relation, rhs)`` of every row of one ``$$ \\begin{aligned} ... $$`` block,
    after checking that the block is exactly that (balanced braces and \\left/\\right)."""
    m = re.fullmatch(r"\$\$\n\\begin\{aligned\}\n(.*)\n\\end\{aligned\}\n\$\$", tex, flags=re.S)
    assert m, tex
    body = m.group(1)
    depth = 0
    for ch in re.sub(r"\\[{}]", "", body):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, body
    assert depth == 0 and body.count(r"\left") == body.count(r"\right")
    rows = []
    for row in re.split(r" \\\\(?:\[6pt\])?\n", body):
        lhs, rel, rhs = re.fullmatch(r"(.*?) &(=|\\le) (.*)", row).groups()
        rows.append((lhs, rel, rhs))
    return rows


def _check_theory_latex(tex: str, th) -> None:
    """Every map, threshold and window row of the display reads back to the theory's own."""
    rows = {lhs: rhs for lhs, _, rhs in _aligned_rows(tex)}
    names = {a: sp.Symbol(f"q{i + 1}") for i, a in
             enumerate(sorted({a for v in th.update.leftover.values() for a in v}, key=lambda a: a.name))}
    for s, inc in th.update.increments().items():
        _read_back(rows[f"{_latex(s)}'"], s + inc.xreplace(names))
    for name, t in th.thresholds.items():
        _read_back(rows[rf"\eta_{{\mathrm{{{name.split('_')[1]}}}}}"], t.eta)
    if th.K is not None:
        _read_back(rows["K"], th.K)
        _read_back(rows[r"k_{\max}"], th.window)
    assert rows[r"w_{2}' - w_{2}"]


@pytest.mark.parametrize("name", ["uv", "pure-quadratic", "two-layer"])
def test_a_theory_shows_as_math_that_reads_back(name):
    _need_parser()
    th = theory(name)
    _check_theory_latex(th._repr_latex_(), th)
    assert th._repr_markdown_() == export_markdown(th)
    assert "| quantity | after one step |" in th._repr_markdown_()


def test_a_broken_theory_display_is_caught():
    _need_parser()
    th = theory("uv")
    tex = th._repr_latex_()
    for broken in (tex.replace(r"4 \cdot f", r"2 \cdot f", 1),        # a constant changed in the map
                   tex.replace(r"\frac{4}{\lambda}", r"\frac{2}{\lambda}"),  # eta_max halved
                   tex.replace("$$\n", "", 1)):                         # not display math
        with pytest.raises(AssertionError):
            _check_theory_latex(broken, th)


def _check_derivation_latex(tex: str, der) -> None:
    """``f``, ``lam`` and ``w2`` read back to the derivation's own (each atom, written as its
    word in brackets, read as a symbol of its own); each GD step names its block's gradient."""
    rows = {lhs: rhs for lhs, _, rhs in _aligned_rows(tex)}
    A = der.algebra
    atoms = sorted(A.atoms_of(der.f) | A.atoms_of(der.lam) | A.atoms_of(der.w2), key=lambda a: a.name)
    words = {a: rf"\left[{A.atom_latex(a)}\right]" for a in atoms}
    tokens = {a: sp.Symbol(f"q{i + 1}") for i, a in enumerate(atoms)}
    for lhs, expr in (("f", der.f), (r"\lambda", der.lam), (r"w_{2}", der.w2)):
        rhs = rows[lhs]
        for a in sorted(atoms, key=lambda a: -len(words[a])):
            rhs = rhs.replace(words[a], f"q_{{{str(tokens[a])[1:]}}}")
        assert r"\left[" not in rhs, rhs
        _read_back(rhs, der.named(expr).xreplace(tokens))
    for p in der.model.params:
        name = sp.latex(sp.Symbol(p.name))
        assert rows[f"{name}'"].startswith(rf"{name} - \eta \cdot r \cdot \left(")


def test_a_derivation_shows_its_invariants_and_step():
    _need_parser()
    der = theory("uv").derivation
    tex = der._repr_latex_()
    _check_derivation_latex(tex, der)
    rows = {lhs: rhs for lhs, _, rhs in _aligned_rows(tex)}
    assert rows["U'"] == r"U - \eta \cdot r \cdot \left(\frac{1}{\sqrt{n}} \cdot v x^{T}\right)"
    assert rows["v'"] == r"v - \eta \cdot r \cdot \left(\frac{1}{\sqrt{n}} \cdot U x\right)"
    _check_derivation_latex(theory("two-layer").derivation._repr_latex_(), theory("two-layer").derivation)
    with pytest.raises(AssertionError):  # the data invariant x2 dropped from lam
        _check_derivation_latex(tex.replace(r"\cdot x_{2}}{n}", "}{n}", 1), der)


def _check_bound_latex(tex: str, spec) -> None:
    rows = _aligned_rows(tex)
    assert [(lhs, rel) for lhs, rel, _ in rows] == [(r"\lambda", r"\le"), ("K", "="),
                                                   (rf"k_{{\max}}^{{\mathrm{{{spec.name}}}}}", "=")]
    assert rows[0][2] == (r"K\,w_{2}" if spec.norm == "w2" else rf"K\,{spec.norm}")
    _read_back(rows[1][2], spec.K)
    _read_back(rows[2][2], spec.k_max)


@pytest.mark.parametrize("name", ["uv", "two-layer"])
def test_a_bound_shows_its_inequality_and_window(name):
    _need_parser()
    for spec in bound_catalog(name).values():
        _check_bound_latex(spec._repr_latex_(), spec)
    spec = bound_catalog("uv")["lemma"]
    with pytest.raises(AssertionError):  # the window end of another K
        _check_bound_latex(spec._repr_latex_().replace(r"\frac{x_{2}}{n}", r"\frac{2 \cdot x_{2}}{n}"), spec)


def test_a_proof_result_shows_its_certificate(all_results):
    import proofs

    res = next(r for r in all_results if r.theorem == "catapult-window-uv")
    md = res._repr_markdown_()
    assert md == proofs.render([res], "md")
    assert "## `catapult-window-uv` — proved" in md
    for step in res.steps:
        assert f"**{step.name}** (" in md
    failed = dataclasses.replace(res, status="failed")
    assert "## `catapult-window-uv` — failed" in failed._repr_markdown_()
    other = next(r for r in all_results if r.theorem == "uv-map")
    assert "catapult-window-uv" not in other._repr_markdown_()


@pytest.fixture(scope="module")
def sweep():
    from catapult_theory.experiments import sweep_uv, uv_setup

    return sweep_uv(uv_setup(100), np.linspace(0.5, 5.0, 24), steps=400)


def _png_colours(png: bytes) -> set[tuple[int, int, int]]:
    from matplotlib.image import imread

    img = imread(io.BytesIO(png), format="png")
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200
    rgb = np.rint(255 * img[..., :3].reshape(-1, 3)).astype(np.int64)
    packed = np.unique(rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2])
    return {(int(c >> 16), int(c >> 8 & 255), int(c & 255)) for c in packed}


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def test_a_sweep_shows_its_phase_diagram(sweep):
    from catapult_theory.report import PHASE_COLORS

    png = sweep._repr_png_()
    assert png.startswith(PNG)
    colours = _png_colours(png)
    for phase in {str(p) for p in sweep.phase}:  # a band of each phase the sweep found
        assert _hex(PHASE_COLORS[phase]) in colours, phase
    blank = dataclasses.replace(sweep, phase=np.array(["unresolved"] * len(sweep.k)))
    assert _hex(PHASE_COLORS["catapult"]) not in _png_colours(blank._repr_png_())


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self.images, self._cell = {}, [], None
        self._table = self._row = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("class"), [])
        elif tag == "tr":
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "img":
            self.images.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._row.append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _check_sweep_html(text: str, sweep) -> None:
    page = _Tables()
    page.feed(text)
    shown = {row[0]: row[1] for row in page.tables["boundaries"]}
    assert set(shown) == set(sweep.boundaries)
    for name, v in sweep.boundaries.items():
        assert (shown[name] == "-") if v is None else float(shown[name]) == pytest.approx(v, rel=1e-5)
    bounds = {row[0]: float(row[1]) for row in page.tables.get("bounds", [])}
    assert bounds == pytest.approx(dict(sweep.bounds), rel=1e-5)
    segments = page.tables["phases"][1:]
    assert sum(int(row[3]) for row in segments) == len(sweep.k)
    assert [row[2] for row in segments] == [p for i, p in enumerate(map(str, sweep.phase))
                                           if i == 0 or p != str(sweep.phase[i - 1])]
    (src,) = page.images
    assert base64.b64decode(src.removeprefix("data:image/png;base64,")).startswith(PNG)


def test_a_sweep_shows_as_html(sweep):
    text = sweep._repr_html_()
    _check_sweep_html(text, sweep)
    assert set(map(str, sweep.phase)) == {"lazy", "catapult", "divergent"}
    moved = dataclasses.replace(sweep, boundaries={**sweep.boundaries, "divergence": 3.0})
    with pytest.raises(AssertionError):  # the HTML of another sweep
        _check_sweep_html(moved._repr_html_(), sweep)


def test_ipython_finds_every_display():
    """IPython's own formatter (what a notebook cell calls) gets the math and the figure."""
    formatters = pytest.importorskip("IPython.core.formatters")
    fmt = formatters.DisplayFormatter()
    th = theory("uv")
    data, _ = fmt.format(th)
    assert data["text/latex"] == th._repr_latex_() and data["text/markdown"] == th._repr_markdown_()
    assert "text/latex" in fmt.format(th.derivation)[0]
    assert "text/latex" in fmt.format(bound_catalog("uv")["lemma"])[0]
    assert S.lam in th.update.update  # the theory shown is the derived one


def test_the_classes_find_their_display_through_the_hooks(monkeypatch):
    """The lower layers' classes never import the display layer: the package registers it
    in display_hooks; with nothing registered a class shows its plain repr (None here)."""
    from catapult_theory import display_hooks
    from catapult_theory.symbolic import theory

    kinds = {"theory_latex", "theory_markdown", "derivation_latex", "bound_latex", "proof_markdown",
             "sweep_png", "sweep_html"}
    assert kinds <= set(display_hooks.SHOW)
    th = theory("uv")
    assert th._repr_latex_().startswith("$$")
    monkeypatch.setattr(display_hooks, "SHOW", {})
    assert th._repr_latex_() is None and th.derivation._repr_latex_() is None
