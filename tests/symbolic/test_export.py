"""Export of the derived theory: balanced LaTeX that SymPy reads back, Markdown tables,
a standalone NumPy module equal to the compiled maps, and the homogeneity / lemma facts."""

import ast
import re

import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from catapult_theory.compiled import threshold, update_map
from catapult_theory.symbolic import (
    MODELS,
    SymbolicModel,
    export_json,
    export_latex,
    export_markdown,
    export_python,
    export_text,
    register,
    theory,
)
from catapult_theory.symbolic import symbols as S
from catapult_theory.symbolic._export import _latex, homogeneity_degree, lemma_form

BUILTIN = ["uv", "pure-quadratic", "quadratic-bias", "two-layer"]


def _uvw():
    """f = wᵀ V U x / n: three blocks, degree 3 (not degree 2)."""
    d = sp.Symbol("d")
    U, V, w, x = (MatrixSymbol("U", S.n, d), MatrixSymbol("V", S.n, S.n), MatrixSymbol("w", S.n, 1),
                  MatrixSymbol("x", d, 1))
    return SymbolicModel("uvw-export", (U, V, w), w.T * V * U * x / S.n, aliases=((x.T * x, S.x2),))


def _mean_field():
    """f = vᵀ U x / n: closed map, degree 2, an operator relation."""
    d = sp.Symbol("d")
    U, v, x = MatrixSymbol("U", S.n, d), MatrixSymbol("v", S.n, 1), MatrixSymbol("x", d, 1)
    return SymbolicModel("mf-export", (U, v), v.T * U * x / S.n, aliases=((x.T * x, S.x2),))


@pytest.fixture(scope="module")
def custom():
    names = {"uvw-export": _uvw, "mf-export": _mean_field}
    for n, b in names.items():
        register(n, b)
    yield list(names)
    for n in names:
        MODELS.pop(n, None)
    theory.cache_clear()
    update_map.cache_clear()
    threshold.cache_clear()


# ----------------------------------------------------------------------------- LaTeX
def _need_parser():
    """SymPy's LaTeX parser (antlr4 4.11, in the test extra); skip only where it is not installed."""
    pytest.importorskip("antlr4")
    from sympy.parsing.latex import parse_latex

    try:
        parse_latex("x")
    except ImportError as exc:  # an antlr4 runtime of another version than SymPy's parser was built with
        pytest.skip(str(exc).splitlines()[0])


def _balanced(tex: str) -> None:
    """Braces, \\left/\\right, \\begin/\\end and inline $ are balanced."""
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, tex
    assert depth == 0
    assert tex.count(r"\left") == tex.count(r"\right")
    envs = re.findall(r"\\(begin|end)\{([^}]*)\}", tex)
    stack = []
    for kind, name in envs:
        if kind == "begin":
            assert not stack, "nested environments"
            assert name == "align*"
            stack.append(name)
        else:
            assert stack and stack.pop() == name
    assert not stack
    for line in tex.splitlines():
        if not line.startswith("%"):
            assert line.count("$") % 2 == 0, line


def _read_back(tex: str, expected: sp.Expr) -> None:
    """SymPy's own LaTeX parser reads ``tex`` back to ``expected`` (each symbol's
    LaTeX token read on its own gives the symbol it stands for)."""
    from sympy.parsing.latex import parse_latex

    parsed = parse_latex(tex)
    reps = {}
    for s in sp.sympify(expected).free_symbols:
        token = parse_latex(_latex(s))
        assert isinstance(token, sp.Symbol), (s, _latex(s), token)
        reps[token] = s
    parsed = parsed.xreplace(reps)
    parsed = parsed.replace(lambda e: isinstance(e, sp.core.function.AppliedUndef) and e.func.__name__ == "max",
                            lambda e: sp.Max(*e.args))
    assert parsed.free_symbols <= set(reps.values()), (tex, parsed)
    assert sp.simplify(parsed - expected) == 0, (tex, parsed, expected)


def _rows(tex: str) -> list[tuple[str, str]]:
    out = []
    for block in re.findall(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", tex, flags=re.S):
        for row in block.split(" \\\\\n"):
            lhs, rhs = row.split(" &= ")
            out.append((lhs, rhs))
    return out


#: the formula read-backs (SymPy's LaTeX parser, about 0.1 s a formula) of the largest
#: export, the bias model's, run with the slow tests; the printer is the same for every model
READ_BACK = [pytest.param(n, marks=pytest.mark.slow) if n == "quadratic-bias" else n for n in BUILTIN]


@pytest.mark.parametrize("name", READ_BACK)
def test_latex_is_balanced_and_reads_back(name):
    _need_parser()
    th = theory(name)
    tex = export_latex(th)
    _balanced(tex)
    rows = dict(_rows(tex))
    names = {a: sp.Symbol(f"q{i + 1}") for i, a in
             enumerate(sorted({a for v in th.update.leftover.values() for a in v}, key=lambda a: a.name))}
    for s, inc in th.update.increments().items():
        _read_back(rows[f"{_latex(s)}'"], s + inc.xreplace(names))
    for tname, t in th.thresholds.items():
        _read_back(rows[rf"\eta_{{\mathrm{{{tname.split('_')[1]}}}}}"], t.eta)
    if th.K is not None:
        _read_back(rows["K"], th.K)
        _read_back(rows[r"k_{\max}"], th.window)


def test_latex_of_a_custom_model_reads_back(custom):
    _need_parser()
    for name in ["mf-export"]:
        th = theory(name)
        tex = export_latex(th)
        _balanced(tex)
        rows = dict(_rows(tex))
        for s, inc in th.update.increments().items():
            names = {a: sp.Symbol(f"q{i + 1}") for i, a in
                     enumerate(sorted({a for v in th.update.leftover.values() for a in v}, key=lambda a: a.name))}
            _read_back(rows[f"{_latex(s)}'"], s + inc.xreplace(names))


def test_a_wrong_reading_is_caught():
    """The read-back check fails for a formula that is not the expression (it can fail)."""
    _need_parser()
    with pytest.raises(AssertionError):
        _read_back(r"\frac{2}{\lambda}", 4 / S.lam)
    with pytest.raises(AssertionError):
        _balanced(r"\begin{align*} x &= \left(1 \end{align*}")


@pytest.mark.parametrize("sym", [S.lam, S.w2, S.x2, sp.Symbol("d"), sp.Symbol("fphi"), sp.Symbol("Lpsi2"),
                                 sp.Symbol("LOmega"), sp.Symbol("q1"), sp.Symbol("zeta"), sp.Symbol("phi2")])
def test_every_symbol_is_one_latex_token(sym):
    _need_parser()
    from sympy.parsing.latex import parse_latex

    assert isinstance(parse_latex(_latex(sym)), sp.Symbol)
    assert isinstance(parse_latex(_latex(sym) + r" \cdot a"), sp.Mul)


# ----------------------------------------------------------------------------- Markdown
@pytest.mark.parametrize("name", READ_BACK)
def test_markdown_tables_of_maps_and_thresholds(name):
    th = theory(name)
    md = export_markdown(th)
    assert md.startswith(f"## {name}\n")
    assert "| quantity | after one step |" in md and "| threshold | value | derived from |" in md
    for line in md.splitlines():
        if line.startswith("|"):
            assert line.endswith("|")
            assert line.count("$") % 2 == 0, line
            # a table row has as many cells as its header
    for s in th.update.increments():
        assert f"| {'$' + _latex(s) + '$'} |" in md
    for tname, t in th.thresholds.items():
        assert _latex(t.eta) in md
    if th.K is not None:
        assert "catapult window" in md


def test_markdown_of_custom_models(custom):
    md = export_markdown(theory("uvw-export"))
    assert "| homogeneity degree | 3 |" in md
    assert "6 \\cdot f" in md  # degree 3: Δw2 = η r (η lam r − 6 f)
    md = export_markdown(theory("mf-export"))
    assert "| homogeneity degree | 2 |" in md and "catapult window" in md


# ----------------------------------------------------------------------------- homogeneity and lemma
def test_homogeneity_degree_and_lemma_form(custom):
    assert homogeneity_degree(theory("uv")) == 2
    assert homogeneity_degree(theory("uvw-export")) == 3
    assert homogeneity_degree(theory("quadratic-bias")) is None
    assert lemma_form(theory("uv"))["applies"] is True
    uvw = lemma_form(theory("uvw-export"))
    assert uvw["applies"] is False and uvw["constant"] == 6
    bias = lemma_form(theory("quadratic-bias"))
    assert bias["applies"] is False and bias["constant"] is None and "not homogeneous" in bias["why"]
    text = export_text(theory("quadratic-bias"))
    assert "homogeneity degree: not homogeneous" in text
    data = export_json(theory("uvw-export"))
    assert data["lemma"]["homogeneity_degree"] == 3 and data["K"] is None
    data = export_json(theory("mf-export"))
    assert data["K"] == "x2/n**2" and data["window"] == "4*lam*n**2/(w2*x2)"


# ----------------------------------------------------------------------------- Python
def _module(source: str) -> dict:
    tree = ast.parse(source)
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert all(isinstance(n, ast.Import) and [a.name for a in n.names] == ["numpy"] for n in imports), \
        "the exported module imports only numpy"
    ns: dict = {}
    exec(compile(source, "<exported>", "exec"), ns)
    return ns


@pytest.mark.parametrize("name", ["uv", "mf-export"])
def test_python_export_equals_the_compiled_map(name, custom, rng):
    th = theory(name)
    ns = _module(export_python(th))
    ident = name.replace("-", "_")
    cmap = update_map(name)
    size = 200
    f = rng.normal(size=size)
    lam = rng.uniform(0.1, 5, size)
    w2 = rng.uniform(0.1, 5, size)
    eta = rng.uniform(0.01, 2, size) / lam
    y = rng.normal(size=size)
    params = {"n": rng.integers(1, 100, size).astype(float), "x2": rng.uniform(0.1, 3, size)}
    got = ns[f"{ident}_step"](f, lam, w2, eta, y, *(params[p] for p in cmap.params[2:]))
    want = cmap(f, lam, w2, eta, y, *(params[p] for p in cmap.params[2:]))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    for tname in th.thresholds:
        np.testing.assert_allclose(ns[f"{ident}_{tname}"](lam), threshold(name, tname)(lam=lam), rtol=1e-12)


def test_python_export_is_caught_when_wrong(custom, rng):
    """The comparison fails for a module whose map differs (the test can fail)."""
    source = export_python(theory("uv")).replace("4*f", "4.5*f")
    ns = _module(source)
    cmap = update_map("uv")
    args = (1.0, 2.0, 3.0, 0.5, 0.0, 10.0, 1.0)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(ns["uv_step"](*args), cmap(*args), rtol=1e-12)


def test_the_catapult_window_starts_at_the_derived_stability_edge():
    """Text, LaTeX and Markdown print the window's lower end from ``eta_crit * lam`` (= 2 for
    the uv model), and the weight-norm lemma from its one statement (constant 4)."""
    from catapult_theory.symbolic import LEMMA_CONSTANT, export_latex, export_markdown, export_text, theory
    from catapult_theory.symbolic import symbols as S

    th = theory("uv")
    edge = sp.simplify(th.thresholds["eta_crit"].eta * S.lam)
    assert edge == 2 and LEMMA_CONSTANT == 4
    assert re.search(r"catapult window: 2 < k = eta lam0 < ", export_text(th))
    assert "catapult window 2 < k < k_max" in export_latex(th)
    assert "| catapult window | $2 < k < " in export_markdown(th)
    assert "weight-norm identity w2' - w2 = eta r (eta lam r - 4 f): holds" in export_text(th)


def test_one_homogeneity_degree_for_every_expression():
    """``Derivation.homogeneity_degree``: f of the degree-2 families, f and lam of the leaky
    three-layer net (3 and 4, the latter only with its slope rules), none for the bias model
    (an affine part); what the export and the degree-3 facts both read."""
    from catapult_theory.symbolic import Derivation, theory
    from catapult_theory.symbolic.models.three_layer import three_layer_leaky_model

    assert [theory(m).derivation.homogeneity_degree() for m in ("uv", "two-layer", "pure-quadratic")] == [2, 2, 2]
    assert theory("quadratic-bias").derivation.homogeneity_degree() is None
    der = Derivation(three_layer_leaky_model())
    assert der.homogeneity_degree() == 3 and der.homogeneity_degree(der.lam) == 4
    assert der.homogeneity_degree(der.lam, up_to=3) is None


# ----------------------------------------------------------------------------- every format valid
def _no_alias():
    """f = vᵀ U x / √n without naming xᵀ x: the export names it (xTx), in every format."""
    d = sp.Symbol("d")
    U, v, x = MatrixSymbol("U", S.n, d), MatrixSymbol("v", S.n, 1), MatrixSymbol("x", d, 1)
    return SymbolicModel("noalias-export", (U, v), v.T * U * x / sp.sqrt(S.n))


def _keyword_scalar():
    """A scalar named ``numpy`` (the exported module's import) and one named like a SymPy
    function (``gamma``), in a model without aliases: the Python export renames the first,
    the others write both as they are."""
    d, c, k = sp.Symbol("d"), sp.Symbol("gamma"), sp.Symbol("numpy")
    U, v, x = MatrixSymbol("U", S.n, d), MatrixSymbol("v", S.n, 1), MatrixSymbol("x", d, 1)
    return SymbolicModel("kw-export", (U, v), c * k * v.T * U * x / sp.sqrt(S.n), scalars=(c, k))


@pytest.fixture(scope="module")
def every_model():
    names = {"noalias-export": _no_alias, "kw-export": _keyword_scalar, "mf-export": _mean_field}
    for n, b in names.items():
        register(n, b)
    yield ["uv", "pure-quadratic", "quadratic-bias", "two-layer", "three-layer", *names]
    for n in names:
        MODELS.pop(n, None)
    theory.cache_clear()
    update_map.cache_clear()
    threshold.cache_clear()


def _valid_python(source: str, th) -> None:
    """The module compiles and its step function runs on arrays, giving finite numbers."""
    tree = ast.parse(source)
    step = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.endswith("_step"))
    ns = _module(source)
    args = [np.full(3, 0.5 + 0.1 * i) for i in range(len(step.args.args))]
    for value in ns[step.name](*args):
        assert np.all(np.isfinite(value))


def _valid_json(data: dict, th) -> None:
    """Every exported expression is SymPy text over the contract symbols, the model's own
    scalars and the named invariants (leftover, data)."""
    from catapult_theory.symbolic._names import model_symbols

    allowed = set(S.CONTRACT) | {s.name for s in model_symbols(th.model)[0]} | set(data["leftover"]) \
        | set(data["data_invariants"]) | {s.name for s, _ in th.model.extra_invariants}
    exprs = [*data["update"].values(), *data["thresholds"].values(),
             *(data[k] for k in ("K", "window") if data[k] is not None)]
    for text in exprs:
        # read as the contract says: every name a symbol (the package's own output: sympify is fine here)
        e = sp.sympify(text, locals={n: sp.Symbol(n) for n in allowed | set(S.CONTRACT)})
        assert {s.name for s in e.free_symbols} <= allowed, (text, allowed)


def _check_exports(names):
    from sympy.parsing.latex import parse_latex

    _need_parser()
    for name in names:
        th = theory(name)
        _valid_python(export_python(th), th)
        _valid_json(export_json(th), th)
        tex = export_latex(th)
        _balanced(tex)
        for lhs, rhs in _rows(tex):
            parse_latex(rhs)
        for line in export_markdown(th).splitlines():
            assert line.count("$") % 2 == 0, (name, line)
        assert "[" not in "".join(export_json(th)["update"].values()), name


def test_the_exports_of_models_from_files_are_valid_in_their_languages(every_model):
    """Python compiles and runs, LaTeX is balanced and each of its formulas parses, JSON's
    expressions are SymPy text in known names, Markdown's cells are balanced: for models
    with and without aliases and with keyword-named scalars (the built-ins: the slow twin)."""
    from catapult_theory.symbolic import MODELS

    _check_exports([m for m in every_model if m not in ("uv", "pure-quadratic", "quadratic-bias", "two-layer",
                                                        "three-layer") and m in MODELS])


@pytest.mark.slow
def test_every_export_of_every_model_is_valid_in_its_language(every_model):
    """The same for every model, the built-ins included (the LaTeX parser is slow on their maps)."""
    _check_exports(every_model)


def test_the_export_validity_check_can_fail(every_model):
    """A word-algebra atom left in the Python or JSON export (as before: ``[xᵀ x]`` as an
    argument) is caught."""
    th = theory("noalias-export")
    with pytest.raises(SyntaxError):
        _valid_python(export_python(th).replace("xTx", "[xᵀ x]"), th)
    data = export_json(th)
    data["update"]["f"] = data["update"]["f"].replace("xTx", "q")
    with pytest.raises(AssertionError):
        _valid_json(data, th)


def test_a_model_without_aliases_names_its_data_invariants(every_model):
    th = theory("noalias-export")
    assert export_json(th)["data_invariants"] == {"xTx": "xᵀ x"}
    assert "def noalias_export_step(f, lam, w2, eta, y, n, xTx):" in export_python(th)
    assert "data invariants: xTx = xᵀ x" in export_text(th)
    src = export_python(theory("kw-export"))
    assert "numpy_" in src and "numpy_ is the model's numpy" in src and "gamma" in src


@pytest.mark.parametrize("build, word", [
    (lambda U, v, x, d: (sp.Symbol("lam") * v.T * U * x, ()), "'lam' is named like the NTK eigenvalue"),
    (lambda U, v, x, d: (sp.Symbol("eta") * v.T * U * x, ()), "'eta' is named like the learning rate"),
    (lambda U, v, x, d: (sp.Symbol("r") * v.T * U * x, ()), "'r' is named like the residual"),
    (lambda U, v, x, d: (sp.Symbol("n", positive=True) * v.T * U * x, ()), "'n' is named like the width n"),
    (lambda U, v, x, d: (sp.Symbol("w_2") * v.T * U * x, ()), "w_{2} in LaTeX, as 'w2'"),
    (lambda U, v, x, d: (sp.Symbol("lambda") * v.T * U * x, ()), "not a Python keyword"),
    (lambda U, v, x, d: (sp.Symbol("a_1") * sp.Symbol("a1") * v.T * U * x, ()), "in LaTeX, as"),
    (lambda U, v, x, d: (MatrixSymbol("f", 1, 1) + v.T * U * x, ()), "matrix 'f'"),
    (lambda U, v, x, d: (v.T * U * x, ((x.T * x, sp.Symbol("w2")),)), "'w2' is named like"),
    (lambda U, v, x, d: (sp.Symbol("θ") * v.T * U * x, ()), "cannot write"),
    (lambda U, v, x, d: (sp.Symbol("None") * v.T * U * x, ()), "not a Python keyword"),
])
def test_a_symbol_named_like_the_derivations_own_is_refused(build, word):
    from catapult_theory.errors import InvalidInput

    d = sp.Symbol("d")
    U, v, x = MatrixSymbol("U", S.n, d), MatrixSymbol("v", S.n, 1), MatrixSymbol("x", d, 1)
    out, aliases = build(U, v, x, d)
    with pytest.raises(InvalidInput, match=re.escape(word)):
        SymbolicModel("clash", (U, v), out, aliases=aliases)


def test_the_contract_width_and_other_names_are_accepted():
    d, zeta = sp.Symbol("d"), sp.Symbol("zeta")
    U, v, x = MatrixSymbol("U", S.n, d), MatrixSymbol("v", S.n, 1), MatrixSymbol("x", d, 1)
    SymbolicModel("ok", (U, v), zeta * v.T * U * x / S.n, aliases=((x.T * x, S.x2),), scalars=(zeta,))
