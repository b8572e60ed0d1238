"""The Coq proofs of proofs/coq/: generated from the symbolic layer, free of
admits and axioms of ours, accepted by coqc (when installed), and a wrong
statement is rejected."""

import re
import shutil

import pytest
import sympy as sp

import proofs
from proofs import _coq as coq

REASON = coq.coq_missing_reason()
needs_coq = pytest.mark.skipif(REASON is not None, reason=f"Coq not run: {REASON}")


# --- the printer -----------------------------------------------------------

def _parse_coq(text: str, symbols=None) -> sp.Expr:
    """A reader for the printer's Coq subset (numbers, names, + - * / ^, unary -,
    parentheses, ``Rmax a b``), with Coq's precedences: it checks that the printed
    text means the expression, not merely that it looks like it."""
    toks = re.findall(r"\d+|[A-Za-z_][A-Za-z0-9_]*|[-+*/^()]", text)
    assert "".join(toks) == re.sub(r"\s+", "", text), text
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else None

    def take(expect=None):
        nonlocal pos
        tok = toks[pos]
        assert expect is None or tok == expect, (tok, expect, text)
        pos += 1
        return tok

    def atom():
        tok = peek()
        if tok == "(":
            take("(")
            e = level50()
            take(")")
            return e
        if tok.isdigit():
            return sp.Integer(take())
        take()
        if tok == "Rmax":
            return sp.Max(atom(), atom())
        return (symbols or {}).get(tok) or sp.Symbol(tok)

    def level30():  # ^, right associative, exponent a natural number
        base = atom()
        if peek() == "^":
            take("^")
            return base ** level30()
        return base

    def level35():  # unary minus
        if peek() == "-":
            take("-")
            return -level35()
        return level30()

    def level40():  # * and /, left associative
        e = level35()
        while peek() in ("*", "/"):
            op = take()
            rhs = level35()
            e = e * rhs if op == "*" else e / rhs
        return e

    def level50():  # + and -, left associative
        e = level40()
        while peek() in ("+", "-"):
            op = take()
            rhs = level40()
            e = e + rhs if op == "+" else e - rhs
        return e

    out = level50()
    assert pos == len(toks), text
    return out


a, b, c, x = sp.symbols("a b c x")

PRINTER_CASES = [
    a - (b - c), a - (b + c), a / (b * c), (a * b) ** 2, -x**2, (-x) ** 3, x ** -2, a / b ** 2,
    sp.Rational(-3, 2) * x, sp.Rational(5, 2), x / 2, -x / 3, sp.Rational(1, 3) * a / b, -a * b / c, a / (b + c) ** 2, (a - b) * (a + b),
    sp.Max(1, a**2) * x / (b * c), sp.Max(a, b, c) - 1, sp.Max(-a, b), sp.Max(-a * b, c / 2), 1 - sp.Max(a + 1, 2 * b), x * (a - 1) ** 3 / 7,
]


@pytest.mark.parametrize("expr", PRINTER_CASES, ids=str)
def test_printer_means_the_expression(expr):
    assert sp.simplify(_parse_coq(coq.to_coq(expr)) - expr) == 0


def test_printed_generated_definitions_mean_the_symbolic_expressions():
    from catapult_theory import symbolic as sym
    from catapult_theory.symbolic import symbols as S

    exprs = [sym.lemma_increment()] + [e.subs(S.y, 0) for e in sym.theory("uv").update.contract().values()]
    for model in coq.GENERATED_MODELS:
        for spec in sym.bound_catalog(model).values():
            if spec.rigorous:
                exprs += [spec.K, spec.k_max] + ([spec.ntk.rhs] if spec.ntk is not None else [])
    for e in exprs:
        assert sp.cancel(_parse_coq(coq.to_coq(e), {s.name: s for s in e.free_symbols}) - e) == 0, e


def test_the_reader_catches_a_wrong_precedence():
    # the reader is strict: "a - b - c" is not a - (b - c)
    assert sp.simplify(_parse_coq("a - b - c") - (a - (b - c))) != 0
    assert sp.simplify(_parse_coq("a / b * c") - a / (b * c)) != 0


@pytest.mark.parametrize("expr", [sp.sqrt(x), sp.sin(x), x ** sp.Rational(1, 2), sp.Float(0.5) * x,
                                  sp.Symbol("x'"), sp.Symbol("fun"), sp.Abs(x), sp.Eq(x, 1)], ids=str)
def test_printer_fails_loudly_on_what_it_does_not_translate(expr):
    with pytest.raises(coq.CoqPrintError):
        coq.to_coq(expr)


# --- the generated file ----------------------------------------------------

def test_generated_file_is_current():
    committed = (coq.COQ_DIR / coq.GENERATED).read_text(encoding="utf-8")
    assert committed == coq.generated_text(), "proofs/coq/Generated.v is stale: run python -m proofs._coq --write"


def test_generated_text_follows_the_symbolic_layer(monkeypatch):
    from catapult_theory import symbolic as sym

    real = sym.lemma_increment
    monkeypatch.setattr(sym, "lemma_increment", lambda *args, **kw: real(constant=3))
    text = coq.generated_text()
    assert text != (coq.COQ_DIR / coq.GENERATED).read_text(encoding="utf-8")
    assert "eta * r * (eta * lam * r - 3 * f)" in text


def test_generated_file_holds_the_map_and_constants():
    text = (coq.COQ_DIR / coq.GENERATED).read_text(encoding="utf-8")
    for name in ("lemma_increment", "uv_f_next", "uv_lam_next", "uv_w2_next", "K_uv_lemma",
                 "K_pure_quadratic_single", "K_two_layer_single", "K_quadratic_bias_feature",
                 "norm_increment_quadratic_bias_feature", "ntk_rhs_quadratic_bias_feature"):
        assert re.search(rf"^Definition {name} ", text, re.M), name


# --- the files -------------------------------------------------------------

def test_files_have_no_admits_or_axioms():
    files = sorted(coq.COQ_DIR.glob("*.v"))
    assert {f.name for f in files} >= {"Generated.v", "Window.v", "UV.v", "Families.v", "Counterexample.v"}
    for f in files:
        assert coq.forbidden_words(f.read_text(encoding="utf-8")) == [], f.name


def test_forbidden_words_are_found_outside_comments():
    assert coq.forbidden_words("Lemma x : True. Proof. admit. Admitted.") == ["Admitted", "admit"]
    assert coq.forbidden_words("Axiom cheat : False.") == ["Axiom"]
    assert coq.forbidden_words("Parameter p : R.") == ["Parameter"]
    assert coq.forbidden_words("(* no Axiom (* nor admit *) here *) Lemma admitted_free : True.") == []


def test_theorem_table_names_real_theorems_and_ids():
    texts = {f.name: f.read_text(encoding="utf-8") for f in coq.COQ_DIR.glob("*.v")}
    for (tid, conclusion), (file, name) in coq.COQ_THEOREMS.items():
        assert tid in proofs.THEOREM_IDS, tid
        assert re.search(rf"^\s*(Theorem|Lemma|Corollary) {name}\b", texts[file], re.M), (file, name)
    for tid in ("catapult-window-uv", "catapult-window-pure-quadratic", "catapult-window-two-layer",
                "catapult-window-quadratic-bias"):
        for conclusion in ("norm-non-increasing", "loss-to-zero", "sum-bound"):
            assert (tid, conclusion) in coq.COQ_THEOREMS
    for conclusion in ("lam-converges", "sharpness-at-most-2", "catapult"):
        assert ("catapult-window-uv", conclusion) in coq.COQ_THEOREMS


def test_compile_order():
    src = {"A.v": "From Catapult Require Import B C.", "B.v": "(* From Catapult Require Import A. *)",
           "C.v": "From Catapult Require Import B."}
    assert coq.compile_order(src) == ["B.v", "C.v", "A.v"]
    with pytest.raises(ValueError, match="cycle"):
        coq.compile_order({**src, "B.v": "From Catapult Require Import A."})
    with pytest.raises(ValueError, match="requires D.v"):
        coq.compile_order({"A.v": "From Catapult Require Import D."})
    real = {f.name: f.read_text(encoding="utf-8") for f in coq.COQ_DIR.glob("*.v")}
    order = coq.compile_order(real)
    assert order[0] == "Generated.v" and order.index("Window.v") < order.index("UV.v") < order.index("Families.v")


def test_print_assumptions_parser():
    assert coq._parse_assumptions("Closed under the global context\n") == ([], [])
    text = ("Axioms:\nClassicalDedekindReals.sig_not_dec : forall P : Prop, {~ ~ P} + {~ P}\n"
            "FunctionalExtensionality.functional_extensionality_dep\n  : forall (A : Type), A\n"
            "cheat : 1 = 2\n")
    assert coq._parse_assumptions(text) == (
        ["ClassicalDedekindReals.sig_not_dec", "FunctionalExtensionality.functional_extensionality_dep", "cheat"], [])
    assert coq._parse_assumptions("Section Variables:\nH : False\n")[1] == ["Section Variables:", "Section Variables: H"]


def test_check_without_coqc_says_why(monkeypatch):
    monkeypatch.setattr(coq.shutil, "which", lambda name: None)
    assert not coq.coqc_available()
    res = coq.check()
    assert not res.ran and not res.ok and "coqc is not on PATH" in res.reason
    assert "Coq was not run" in res.summary()
    assert not res.proves("catapult-window-uv", "loss-to-zero")


# --- coqc ------------------------------------------------------------------

@pytest.fixture(scope="session")
def coq_result():
    """proofs/coq/ compiled once per session."""
    return coq.check()


@needs_coq
def test_coqc_accepts_every_file(coq_result):
    assert coq_result.ran and coq_result.ok, coq_result.summary()
    assert set(coq_result.axioms) <= coq.ALLOWED_AXIOMS and not coq_result.problems
    for key in coq.COQ_THEOREMS:
        assert coq_result.proves(*key), key
    for name in ("UV.uv_loss_to_zero", "UV.uv_lam_converges", "UV.uv_sharpness_at_most_2", "UV.uv_catapult",
                 "Window.window_loss_to_zero", "Window.window_sum_bound", "Window.shifted_sum_bound",
                 "Counterexample.uv_sharpness_needs_f_nonzero"):
        assert name in coq_result.theorems, name


@needs_coq
def test_check_leaves_the_source_tree_alone(coq_result):
    built = [p.name for p in coq.COQ_DIR.iterdir() if p.suffix in (".vo", ".vok", ".vos", ".glob", ".aux")
             or p.name.endswith(".cache")]
    assert built == []


def _variant(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@needs_coq
def test_a_wrong_statement_is_rejected(tmp_path):
    """Window.v with the window edge 4 of the one-step decrease moved to 4.1: coqc refuses it."""
    window = (coq.COQ_DIR / "Window.v").read_text(encoding="utf-8")
    shutil.copy(coq.COQ_DIR / coq.GENERATED, tmp_path / coq.GENERATED)
    (tmp_path / "Window.v").write_text(_variant(
        window, "0 < eta -> lam <= K * w -> eta * (K * w) < 4 ->", "0 < eta -> lam <= K * w -> eta * (K * w) < 41 / 10 ->"))
    res = coq.check(source_dir=tmp_path)
    files = {f.name: f for f in res.files}
    assert res.ran and not res.ok and files["Generated.v"].ok
    assert not files["Window.v"].ok and "Error" in files["Window.v"].error


@needs_coq
def test_an_axiom_of_ours_is_caught(tmp_path):
    """A hypothesis outside any section is an axiom (no forbidden word): Print Assumptions finds it."""
    (tmp_path / "Cheat.v").write_text("Require Import Reals.\nOpen Scope R_scope.\nHypothesis cheat : 1 = 2.\n"
                                      "Theorem cheat_thm : 1 = 2. Proof. exact cheat. Qed.\n")
    res = coq.check(source_dir=tmp_path)
    assert res.ran and not res.ok and res.files[0].ok and "Cheat.cheat_thm" in res.theorems
    assert any(a.endswith("cheat") for a in res.foreign_axioms), res.summary()
    assert not res.accepted("Cheat.v", "cheat_thm") and "axioms not allowed" in res.summary()


@needs_coq
@pytest.mark.slow
def test_wrong_bound_and_uv_statements_are_rejected(tmp_path):
    shutil.copy(coq.COQ_DIR / coq.GENERATED, tmp_path / coq.GENERATED)
    window = (coq.COQ_DIR / "Window.v").read_text(encoding="utf-8")
    (tmp_path / "Window.v").write_text(window)
    # the bound on the sum of f_t^2 halved
    (tmp_path / "WrongBound.v").write_text(_variant(
        window, "  sum_n g m <= N 0%nat / (eta * (4 - eta * (b + K * N 0%nat))).",
        "  sum_n g m <= N 0%nat / (2 * (eta * (4 - eta * (b + K * N 0%nat))))."))
    # the sharpness limit 2 lowered to 1.9
    uv = (coq.COQ_DIR / "UV.v").read_text(encoding="utf-8")
    (tmp_path / "UV.v").write_text(_variant(uv, "is_lim_seq lam lam_inf -> eta * lam_inf <= 2.",
                                            "is_lim_seq lam lam_inf -> eta * lam_inf <= 19 / 10."))
    res = coq.check(source_dir=tmp_path)
    files = {f.name: f for f in res.files}
    assert files["Window.v"].ok
    for wrong in ("WrongBound.v", "UV.v"):
        assert not files[wrong].ok and "Error" in files[wrong].error, wrong


# --- catapult prove and Coq ------------------------------------------------------

def _steps_with_coq_keys():
    from proofs import catapult_window_uv

    return {st.name: st.coq for st in catapult_window_uv.theorem().steps if st.coq}


def test_every_coq_key_of_the_window_steps_is_in_the_table():
    keys = _steps_with_coq_keys()
    assert {"non-increasing", "loss-to-zero", "lam-converges", "sharpness-at-most-2", "catapult"} <= set(keys)
    assert all(("catapult-window-uv", k) in coq.COQ_THEOREMS for k in keys.values())


@needs_coq
def test_prove_marks_what_coq_checked(coq_result, monkeypatch):
    monkeypatch.setitem(proofs._COQ, "result", coq_result)  # compiled once per session
    (r,) = proofs.prove(["catapult-window-uv"])
    marked = {s.name for s in r.steps if "coq" in s.checked_by}
    assert marked == set(_steps_with_coq_keys())
    cat = next(s for s in r.steps if s.name == "catapult")
    assert cat.coq == "UV.v uv_catapult" and "proofs/coq/UV.v" in proofs.render([r], "md")


def test_prove_says_when_coq_was_not_run(monkeypatch):
    monkeypatch.setattr(coq.shutil, "which", lambda name: None)
    monkeypatch.setitem(proofs._COQ, "result", None)
    assert proofs.coq_status().startswith("Coq was not run")
    (r,) = proofs.prove(["catapult-window-uv"], smt=False)
    assert not any("coq" in s.checked_by for s in r.steps)
