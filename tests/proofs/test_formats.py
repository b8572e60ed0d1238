"""Certificates parse: JSON loads to the contract, LaTeX is balanced amsmath and
every formula parses back, Markdown has one table row per theorem and one symbol
table per theorem; the CLI's exit codes, for the shipped theorems and for a
proof file of one's own."""

import json
import re

import pytest
import sympy as sp

import proofs
from catapult_theory.cli import main


def test_json_contract(all_results):
    data = json.loads(proofs.render(all_results, "json"))
    assert isinstance(data, list) and len(data) == len(all_results)
    for item in data:
        assert item["status"] in ("proved", "failed")
        assert isinstance(item["theorem"], str) and isinstance(item["model"], str)
        assert isinstance(item["axioms"], list) and isinstance(item["hypotheses"], list)
        assert isinstance(item["conclusion"], list) and item["conclusion"]
        for step in item["steps"]:
            assert {"name", "kind", "status", "uses", "checked_by", "claim", "hypotheses"} <= set(step)
            assert step["kind"] in ("identity", "certificate", "chain", "induction", "cases", "axiom", "iterate")
            assert isinstance(step["uses"], list) and isinstance(step["checked_by"], list)
            if step["kind"] in ("identity", "certificate", "chain"):
                assert {"sympy", "z3"} <= set(step["checked_by"]), (item["theorem"], step["name"])


def _balanced(tex: str) -> None:
    depth = 0
    for i, ch in enumerate(tex):
        if ch == "{" and (i == 0 or tex[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and (i == 0 or tex[i - 1] != "\\"):
            depth -= 1
        assert depth >= 0, tex[max(0, i - 60):i + 1]
    assert depth == 0
    stack = []
    for m in re.finditer(r"\\(begin|end)\{([^}]*)\}", tex):
        if m.group(1) == "begin":
            stack.append(m.group(2))
        else:
            assert stack and stack.pop() == m.group(2), m.group(0)
    assert not stack


def test_latex_is_balanced_amsmath(all_results):
    tex = proofs.render(all_results, "latex")
    assert r"\usepackage{amsmath}" in tex and tex.strip().endswith(r"\end{document}")
    _balanced(tex)
    assert tex.count(r"\begin{equation*}") > 20


def _formulas(md: str) -> list[str]:
    return re.findall(r"\$([^$]+)\$", md)


def _relations(results):
    for r in results:
        yield from (c[0] if isinstance(c, tuple) else c for c in r.conclusion)
        yield from (h.relation if isinstance(h, proofs.Always) else h for h in r.hypotheses)
        for st in r.steps:
            yield st.claim
            yield from (h.relation if isinstance(h, proofs.Always) else h for h in st.hypotheses)


def _round_trip(rel):
    """LaTeX of ``rel`` with every symbol and sequence term named ``a_{k}``, parsed
    back by SymPy: '' when it reads as the same relation, else what it read."""
    from sympy.core.function import AppliedUndef
    from sympy.parsing.latex import parse_latex

    from proofs._format import formula
    from proofs._kernel import strip

    e = strip(rel)
    seqs = {a: sp.Symbol(f"c_{{{i}}}") for i, a in enumerate(sorted(e.atoms(AppliedUndef), key=sp.default_sort_key))}
    e = type(e)(e.lhs.xreplace(seqs), e.rhs.xreplace(seqs), evaluate=False)
    names = {s.name: f"a_{{{i}}}" for i, s in enumerate(sorted(e.free_symbols, key=str))}
    back = {sp.Symbol(v): sp.Symbol(k) for k, v in names.items()}
    tex = formula(e, names, mul_symbol="dot")  # juxtaposed before "(" the parser reads a function call
    got = parse_latex(tex)
    if isinstance(got, sp.logic.boolalg.BooleanAtom):  # the parser evaluated it (an empty sum = 0, ...)
        truth = sp.simplify((e.lhs - e.rhs).doit()) == 0 if isinstance(e, sp.Eq) else None
        return "" if truth == bool(got) else f"{tex} read as {got}"
    got = got.replace(lambda a: isinstance(a, AppliedUndef) and a.func.__name__ == "max",
                      lambda a: sp.Max(*a.args))  # the parser's \max is an undefined function
    got = type(got)(got.lhs.xreplace(back), got.rhs.xreplace(back), evaluate=False)
    if type(got) is not type(e) or sp.simplify((got.lhs - got.rhs) - (e.lhs - e.rhs)) != 0:
        return f"{tex} read as {got}"
    return ""


_RELATION = re.compile(r"(?<![\\a-z])(=|<|>)|\\leq|\\geq|\\neq")


def _syntax(tex: str) -> str:
    """'' when SymPy's LaTeX parser reads ``tex`` (a relation as a relation: the
    parser silently stops at what it cannot read)."""
    from sympy.parsing.latex import parse_latex

    try:
        got = parse_latex(tex)
    except Exception as exc:  # noqa: BLE001 - every parser failure is a finding
        return type(exc).__name__
    if _RELATION.search(tex) and not isinstance(got, (sp.core.relational.Relational,
                                                      sp.logic.boolalg.BooleanAtom)):
        return f"read as {got}, not a relation"
    return ""


def _check_formulas(results, values: bool) -> tuple[int, int]:
    """Every formula of the Markdown certificate of ``results`` parses (with the
    symbol table's values when ``values``), and every claim and hypothesis reads
    back as the same relation with its symbols renamed; the counts checked."""
    md = proofs.render(results, "md")
    formulas = set(_formulas(md))
    if not values:  # claims, hypotheses and conclusions: the short formulas outside the symbol table
        formulas = {f for line in md.splitlines() if not line.startswith("| $") for f in _formulas(line)}
    bad = [(f, why) for f in formulas if (why := _syntax(f))]
    assert not bad, bad[:5]
    seen, wrong = set(), []
    for rel in _relations(results):
        key = sp.srepr(rel)
        if key in seen or any(isinstance(a, sp.Abs) for a in sp.preorder_traversal(rel)):
            continue
        seen.add(key)
        why = _round_trip(rel)
        if why:
            wrong.append(why)
    assert not wrong, wrong[:3]
    for placeholder in ("Dw_{2}", "rTr", "r_{2}", "theta_dot", "map[", "^{2 - |"):
        assert placeholder not in md, placeholder
    return len(formulas), len(seen)


@pytest.mark.slow
def test_every_symbol_name_parses(all_results):
    """Each symbol's own LaTeX parses in a relation (about 45 parses; the window's
    read-back below covers the names it uses in the default run)."""
    from proofs._format import symbol_latex

    names = {tex for r in all_results for tex in symbol_latex(r.definitions).values()}
    assert len(names) > 40
    bad = [(n, why) for n in names if (why := _syntax(f"{n} = 1"))]
    assert not bad, bad[:5]


def test_the_window_reads_back(all_results):
    """A formula is SymPy's printer composed with the symbols' own LaTeX: the hypotheses
    and conclusions of the uv window read back as the same relations with their symbols
    renamed (every claim of the whole certificate, symbol tables included, is the slow
    twin below)."""
    window = next(r for r in all_results if r.theorem == "catapult-window-uv")
    stated = [c[0] if isinstance(c, tuple) else c for c in window.conclusion]
    stated += [h.relation if isinstance(h, proofs.Always) else h for h in window.hypotheses]
    assert len(stated) >= 6
    wrong = [why for rel in {sp.srepr(x): x for x in stated}.values() if (why := _round_trip(rel))]
    assert not wrong, wrong[:3]


@pytest.mark.slow
def test_every_formula_of_the_certificate_parses_back(all_results):
    """Each formula of the Markdown certificate (claims, hypotheses, the symbol
    table) is LaTeX that SymPy's parser reads; with the symbols renamed, each
    claim and hypothesis reads back as the same relation."""
    parsed, relations = _check_formulas(all_results, values=True)
    assert parsed > 300 and relations > 150


def test_the_parse_back_check_can_fail():
    assert _syntax(r"\eta^{*} |\theta|^{2} = 4")  # read as eta: the rest silently dropped
    assert _syntax(r"\frac{a}{") and not _syntax(r"\eta_{\ast} |\theta|^{2} = 4")
    x, y = sp.symbols("x y")
    import proofs._format as fmt

    real = fmt.formula
    try:  # a printer that drops a pair of parentheses is caught by the round trip
        fmt.formula = lambda e, names=None, mul_symbol=None: real(e, names, mul_symbol).replace(
            r"\left(", " ").replace(r"\right)", " ")
        assert _round_trip(sp.Eq(x * (x + y), 1))
    finally:
        fmt.formula = real
    assert not _round_trip(sp.Eq(x * (x + y), 1))


def test_each_theorem_states_hypotheses_and_conclusion_once_with_a_symbol_table(all_results):
    md = proofs.render(all_results, "md")
    sections = md.split("\n## `")[1:]
    theorems = [s for s in sections if not s.startswith("Axioms")]
    assert len(theorems) == len(all_results)
    for sec in theorems:
        assert sec.count("**Conclusion.**") == 1
        assert "| symbol | meaning | value |" in sec


def test_latex_balance_check_can_fail():
    import pytest

    with pytest.raises(AssertionError):
        _balanced(r"\begin{document}\frac{a}{b\end{document}")
    with pytest.raises(AssertionError):
        _balanced(r"\begin{equation*}x\end{align*}")


def test_markdown_has_one_table_row_per_theorem(all_results):
    md = proofs.render(all_results, "md")
    rows = [line for line in md.splitlines() if line.startswith("| `")]
    assert len(rows) == len(all_results)
    assert all(line.rstrip().endswith("|") and "proved" in line for line in rows)
    assert md.count("\n## `") == len(all_results)


def test_text_table(all_results):
    text = proofs.render(all_results, "text")
    assert f"{len(all_results)} of {len(all_results)} proved" in text


def test_cli_exit_codes(capsys, tmp_path):
    assert main(["prove", "uv-map", "ntk-bound-uv", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["theorem"] for d in data] == ["uv-map", "ntk-bound-uv"]
    assert main(["prove", "bogus-theorem"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bogus-theorem" in err
    assert main(["prove", "linear-onset", "--model", "nope"]) == 2
    with proofs.inject(lemma_constant=3):
        assert main(["prove", "weight-norm-identity", "--model", "uv"]) == 1
    out = capsys.readouterr().out
    assert "NOT PROVED" in out and "one-datum" in out


README_PROOF = """
import sympy as sp
import proofs

x, y = sp.symbols("x y")

theorem = proofs.Theorem(
    "am-gm-two",
    hypotheses=(x > 0, y > 0),
    conclusion=(x**2 + y**2 >= 2 * x * y,),
    steps=(
        proofs.Step("square", (x - y) ** 2 >= 0, by=proofs.Certificate()),
        proofs.Step("am-gm", x**2 + y**2 >= 2 * x * y, by=proofs.Chain(("square",)), uses=("square",)),
    ),
)
"""


def test_cli_checks_a_proof_file(capsys, tmp_path):
    good = tmp_path / "amgm.py"
    good.write_text(README_PROOF)
    assert main(["prove", str(good), "--format", "json"]) == 0
    (res,) = json.loads(capsys.readouterr().out)
    assert res["status"] == "proved" and all("z3" in s["checked_by"] for s in res["steps"])
    bad = tmp_path / "bad.py"
    bad.write_text(README_PROOF.replace("2 * x * y", "3 * x * y"))
    assert main(["prove", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "step am-gm" in out and "countermodel" in out
    for text, what in (("theorem = 3", "must be a proofs.Theorem"), ("x = (", "syntax error"),
                       ("raise RuntimeError('no')", "RuntimeError")):
        (tmp_path / "m.py").write_text(text)
        assert main(["prove", str(tmp_path / "m.py")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and what in err
    assert main(["prove", str(tmp_path / "missing.py")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_cli_out_file(capsys, tmp_path):
    target = tmp_path / "cert.md"
    assert main(["prove", "ntk-bound-omega", "--format", "md", "--out", str(target)]) == 0
    assert "certificate written" in capsys.readouterr().out
    text = target.read_text()
    assert "ntk-bound-omega" in text and not list(tmp_path.glob(".*.tmp"))
    assert main(["prove", "uv-map", "--out", str(tmp_path)]) == 2  # a directory
    (tmp_path / "plain").write_text("")
    assert main(["prove", "uv-map", "--out", str(tmp_path / "plain" / "c.md")]) == 2  # a file in the way
    # a missing folder is made (checked before the proofs run)
    assert main(["prove", "uv-map", "--out", str(tmp_path / "new" / "sub" / "c.md")]) == 0
    assert (tmp_path / "new" / "sub" / "c.md").is_file()
