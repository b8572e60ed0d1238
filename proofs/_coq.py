"""The Coq side of the proofs: the generated definitions, the checker, the theorem table.

``proofs/coq/`` holds Coq (8.16, standard library Reals/Lra/Psatz and Coquelicot)
proofs of the limit arguments that the SymPy kernel only states: the catapult
window for an abstract sequence obeying the weight-norm lemma (the norm does
not grow, ``Σ f_t²`` is bounded, ``f_t → 0``), its shifted form for the
modified norm of the bias model, and the uv model on its exact map (``lam_t``
converges, the loss tends to 0, and ``η lam_∞ <= 2`` when ``f_t`` never hits 0).

The maps and constants those files use are not retyped: :func:`generated_text`
prints them from the symbolic layer (:func:`to_coq`, a printer over
Add/Mul/Pow/Rational/Integer/Symbol/Max that fails loudly on anything else)
into ``proofs/coq/Generated.v``; ``python -m proofs._coq --write`` regenerates
it, ``--check`` says whether the committed file is current.

:func:`check` compiles every ``.v`` file in dependency order in a temporary
directory (nothing is written into the source tree), and runs
``Print Assumptions`` on every theorem it accepted: only the standard
library's axioms of the real numbers (:data:`ALLOWED_AXIOMS`) may appear.
:data:`COQ_THEOREMS` maps (theorem id, conclusion) to the file and Coq name
that proves it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import sympy as sp

__all__ = [
    "ALLOWED_AXIOMS",
    "COQ_DIR",
    "COQ_THEOREMS",
    "CoqFileResult",
    "CoqPrintError",
    "CoqResult",
    "FORBIDDEN_WORDS",
    "GENERATED",
    "GENERATED_MODELS",
    "LOGICAL_ROOT",
    "check",
    "coqc_available",
    "coqc_version",
    "compile_order",
    "coq_missing_reason",
    "forbidden_words",
    "generated_text",
    "to_coq",
    "write_generated",
]

#: the folder of the .v files
COQ_DIR = Path(__file__).resolve().parent / "coq"
#: the generated file, inside :data:`COQ_DIR`
GENERATED = "Generated.v"
#: the logical name the files are compiled under (``coqc -Q <dir> Catapult``)
LOGICAL_ROOT = "Catapult"

# ---------------------------------------------------------------------------
# printer
# ---------------------------------------------------------------------------

#: Coq keywords and standard names a SymPy symbol must not be printed as
_RESERVED = frozenset("""
    as at cofix else end exists exists2 fix for forall fun if IF in let match mod return then
    using where with Prop Set Type Theorem Lemma Definition Fixpoint Axiom Parameter R
    IZR INR Rmax Rmin Rabs sqrt exp ln PI pow Rplus Rmult Rminus Rdiv Ropp Rinv
""".split())

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class CoqPrintError(ValueError):
    """A SymPy expression with a construct the Coq printer does not translate."""


def _name(sym: sp.Symbol) -> str:
    name = sym.name
    if not _IDENT.match(name) or name in _RESERVED:
        raise CoqPrintError(f"symbol {name!r} is not a plain Coq identifier")
    return name


def _number(q: sp.Rational) -> str:
    if q.q == 1:
        return str(q.p) if q.p >= 0 else f"({q.p})"
    return f"({q.p} / {q.q})"


# precedence of what a string is at (Coq R_scope): 50 + -, 40 * /, 30 ^, 0 atom / application
_ATOM, _POW, _MUL, _ADD = 0, 30, 40, 50


def _wrap(s: tuple[str, int], level: int) -> str:
    """``s`` as an operand where a term of precedence below ``level`` is needed."""
    text, prec = s
    return text if prec < level else f"({text})"


def _print(e: sp.Basic) -> tuple[str, int]:
    if isinstance(e, sp.Symbol):
        return _name(e), _ATOM
    if isinstance(e, sp.Rational):  # Integer is a Rational
        return _number(e), _ATOM
    if isinstance(e, sp.Add):
        terms = e.as_ordered_terms()
        out = _wrap(_print(terms[0]), _ADD + 1)
        for t in terms[1:]:
            if t.could_extract_minus_sign():
                out += " - " + _wrap(_print(-t), _ADD)  # a - b: b must bind tighter than -
            else:
                out += " + " + _wrap(_print(t), _ADD)
        return out, _ADD
    if isinstance(e, sp.Mul):
        coeff, rest = e.as_coeff_Mul()
        if coeff.is_negative:
            inner = _wrap(_print(sp.Mul(-coeff, rest, evaluate=False) if coeff != -1 else rest), _MUL + 1)
            return "- " + inner, _MUL  # unary minus (level 35) times...: value -(x*y) either way
        num, den = [], []
        if coeff != 1:
            if not isinstance(coeff, sp.Rational):
                raise CoqPrintError(f"coefficient {coeff} is not rational")
            if coeff.p != 1:
                num.append(sp.Integer(coeff.p))
            if coeff.q != 1:
                den.append(sp.Integer(coeff.q))
        for fac in sp.Mul.make_args(rest):
            base, ex = fac.as_base_exp()
            if ex.is_Integer and ex < 0:
                den.append(base ** (-ex))
            else:
                num.append(fac)
        num_text = " * ".join(_wrap(_print(x), _MUL) for x in num) if num else "1"
        if not den:
            return num_text, _MUL
        if len(den) > 1:
            den_text = "(" + " * ".join(_wrap(_print(x), _MUL) for x in den) + ")"
        else:
            den_text = _wrap(_print(den[0]), _MUL)  # x / (a * b): the divisor binds tighter than * and /
        return f"{num_text} / {den_text}", _MUL
    if isinstance(e, sp.Pow):
        base, ex = e.args
        if ex.is_Integer and ex > 0:
            return f"{_wrap(_print(base), _POW)} ^ {int(ex)}", _POW
        if ex.is_Integer and ex < 0:
            return f"1 / {_wrap(_print(base ** (-ex)), _MUL)}", _MUL
        raise CoqPrintError(f"power {e} with exponent {ex} (only integer exponents print)")
    if isinstance(e, sp.Max):
        args = [_wrap(_print(a), 1) for a in e.args]  # application arguments: atoms or parenthesised
        out = args[-1]
        for a in reversed(args[:-1]):
            out = f"Rmax {a} {out if out is args[-1] else '(' + out + ')'}"
        return out, _ATOM + 1  # an application: tighter than every operator, not an atom
    raise CoqPrintError(f"{type(e).__name__} in {e} has no Coq translation here")


def to_coq(expr: sp.Basic) -> str:
    """``expr`` as a Coq term of type ``R`` (in ``R_scope``): sums, products,
    rational numbers, symbols, integer powers (``x ^ k``, ``pow``), quotients and
    ``Max`` (``Rmax``). Raises :class:`CoqPrintError` on anything else (a
    function, a non-integer power, a float, a relation...)."""
    e = sp.sympify(expr)
    if e.has(sp.Float):
        raise CoqPrintError(f"{e} contains a float")
    return _print(e)[0]


# ---------------------------------------------------------------------------
# the generated file
# ---------------------------------------------------------------------------

#: the argument order of generated definitions: these first, in this order, then the rest by name
_ARG_ORDER = ("eta", "x2", "n", "d", "a", "B", "zeta", "Lpsi2", "LOmega", "LX", "phi2",
              "f", "lam", "w2", "Q", "r")

#: the families and bounds whose constant K is generated (the rigorous ones of the catalogue)
GENERATED_MODELS = ("uv", "pure-quadratic", "two-layer", "quadratic-bias")


def _args(expr: sp.Expr, first: Sequence[str] = ()) -> list[sp.Symbol]:
    syms = {s.name: s for s in expr.free_symbols}
    order = list(first) + [a for a in _ARG_ORDER if a not in first]
    out = [syms.pop(a) for a in order if a in syms]
    return out + [syms[k] for k in sorted(syms)]


def _comment(text: str) -> str:
    """``text`` safe inside a Coq comment (no nested comment or string delimiters)."""
    return text.replace("(*", "( *").replace("*)", "* )").replace('"', "'")


def _definition(name: str, expr: sp.Expr, doc: str, first: Sequence[str] = ()) -> str:
    args = _args(expr, first)
    doc = _comment(doc)
    binders = f" ({' '.join(_name(a) for a in args)} : R)" if args else ""
    return f"(** {doc} *)\nDefinition {name}{binders} : R :=\n  {to_coq(expr)}.\n"


def _ident(*parts: str) -> str:
    return "_".join(p.replace("-", "_") for p in parts)


def generated_text() -> str:
    """The text of ``proofs/coq/Generated.v``, printed from the symbolic layer."""
    from catapult_theory import symbolic as sym
    from catapult_theory.symbolic import symbols as S

    out = [
        "(* Generated by `python -m proofs._coq --write` from catapult_theory.symbolic;",
        "   do not edit: a test regenerates this file and fails if it differs. *)",
        "",
        "Require Import Reals.",
        "Open Scope R_scope.",
        "",
    ]
    inc = sym.lemma_increment()
    out.append(_definition("lemma_increment", inc,
                           f"weight-norm lemma, one datum: |θ'|² − |θ|² = {inc}  (lemma_increment())",
                           first=("eta", "lam", "f", "r")))
    # the uv map at y = 0
    contract = sym.theory("uv").update.contract()
    for s, name in ((S.f, "uv_f_next"), (S.lam, "uv_lam_next"), (S.w2, "uv_w2_next")):
        e = contract[s].subs(S.y, 0)
        out.append(_definition(name, e, f"uv map at y = 0, {s}' = {e}  (theory('uv').update.contract())"))
    # the constants of the bound catalogue
    for model in GENERATED_MODELS:
        for bname, spec in sym.bound_catalog(model).items():
            if not spec.rigorous:
                continue
            base = _ident(model, bname)
            try:
                text = [_definition(f"K_{base}", spec.K, f"K of bound_catalog({model!r})[{bname!r}]: {spec.K}")]
                if spec.ntk is not None:
                    text.append(_definition(f"ntk_rhs_{base}", spec.ntk.rhs,
                                            f"NTK bound of {model}/{bname}: {spec.ntk}"))
                if spec.norm_increment is not None and spec.norm != "w2":
                    text.append(_definition(f"norm_increment_{base}", spec.norm_increment,
                                            f"increment of the norm {spec.norm} of {model}/{bname}: "
                                            f"{spec.norm_increment}", first=("eta", "lam")))
                text.append(_definition(f"k_max_{base}", spec.k_max,
                                        f"window end k_max = eta lam_0 of {model}/{bname}: {spec.k_max}"))
            except CoqPrintError as exc:
                out.append(f"(* {model}/{bname}: not expressible here ({exc}) *)\n")
                continue
            out.extend(text)
    return "\n".join(out)


def write_generated(path: Path | None = None) -> Path:
    """Write :func:`generated_text` to ``path`` (default ``proofs/coq/Generated.v``)."""
    path = path or COQ_DIR / GENERATED
    path.write_text(generated_text(), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# the theorem table
# ---------------------------------------------------------------------------

#: (theorem id, conclusion) -> (.v file, Coq theorem name). The conclusions of the
#: catapult-window theorems, one datum, y = 0: the norm (|θ|², Q for the bias model)
#: never grows; eta lam_t stays below the edge 4 (eta (lam_t + |φ|²) for the bias model);
#: the sum of f_t² is bounded by N_0 / (eta (4 − eta K N_0)) (shifted for the bias model);
#: the loss f_t²/2 tends to 0; the catalogue's window end k_max is the condition
#: eta K N_0 < 4; and for the uv model on its exact map: lam_t converges, eta lam_inf <= 2
#: when f_t never hits 0, the catapult (lam_inf < lam_0 from 2 < eta lam_0), and that
#: f_t != 0 cannot be dropped.
COQ_THEOREMS: dict[tuple[str, str], tuple[str, str]] = {
    ("weight-norm-decrease", "one-step-decrease"): ("Window.v", "one_step_decrease"),
    ("uv-map", "lemma-increment"): ("UV.v", "uv_w2_next_lemma"),
    ("uv-map", "lam-minus-K-w-invariant"): ("UV.v", "uv_lam_next_invariant"),
    ("uv-map", "residual-multiplier"): ("UV.v", "uv_f_next_factor"),
    ("catapult-window-uv", "norm-non-increasing"): ("UV.v", "uv_norm_non_increasing"),
    ("catapult-window-uv", "eta-lam-below-4"): ("UV.v", "uv_below_edge"),
    ("catapult-window-uv", "sum-bound"): ("UV.v", "uv_sum_bound"),
    ("catapult-window-uv", "loss-to-zero"): ("UV.v", "uv_loss_to_zero"),
    ("catapult-window-uv", "lam-converges"): ("UV.v", "uv_lam_converges"),
    ("catapult-window-uv", "sharpness-at-most-2"): ("UV.v", "uv_sharpness_at_most_2"),
    ("catapult-window-uv", "catapult"): ("UV.v", "uv_catapult"),
    ("catapult-window-uv", "needs-f-nonzero"): ("Counterexample.v", "uv_sharpness_needs_f_nonzero"),
    ("catapult-window-uv", "window-k-max"): ("Families.v", "uv_window_k_max"),
    ("catapult-window-pure-quadratic", "norm-non-increasing"): ("Families.v", "pure_quadratic_norm_non_increasing"),
    ("catapult-window-pure-quadratic", "eta-lam-below-4"): ("Families.v", "pure_quadratic_below_edge"),
    ("catapult-window-pure-quadratic", "sum-bound"): ("Families.v", "pure_quadratic_sum_bound"),
    ("catapult-window-pure-quadratic", "loss-to-zero"): ("Families.v", "pure_quadratic_loss_to_zero"),
    ("catapult-window-pure-quadratic", "window-k-max"): ("Families.v", "pure_quadratic_window_k_max"),
    ("catapult-window-two-layer", "norm-non-increasing"): ("Families.v", "two_layer_norm_non_increasing"),
    ("catapult-window-two-layer", "eta-lam-below-4"): ("Families.v", "two_layer_below_edge"),
    ("catapult-window-two-layer", "sum-bound"): ("Families.v", "two_layer_sum_bound"),
    ("catapult-window-two-layer", "loss-to-zero"): ("Families.v", "two_layer_loss_to_zero"),
    ("catapult-window-two-layer", "window-k-max"): ("Families.v", "two_layer_window_k_max"),
    ("catapult-window-quadratic-bias", "norm-non-increasing"): ("Families.v", "quadratic_bias_norm_non_increasing"),
    ("catapult-window-quadratic-bias", "eta-lam-below-4"): ("Families.v", "quadratic_bias_below_edge"),
    ("catapult-window-quadratic-bias", "sum-bound"): ("Families.v", "quadratic_bias_sum_bound"),
    ("catapult-window-quadratic-bias", "loss-to-zero"): ("Families.v", "quadratic_bias_loss_to_zero"),
    ("catapult-window-quadratic-bias", "window-k-max"): ("Families.v", "quadratic_bias_window_k_max"),
}

# ---------------------------------------------------------------------------
# running coqc
# ---------------------------------------------------------------------------

#: what Coq's standard library of real numbers assumes (ClassicalDedekindReals:
#: the reals are built on these two; functional extensionality is used by the
#: Reals and Coquelicot libraries) and the classical axioms of the standard
#: library Coquelicot may pull in. Anything else in ``Print Assumptions`` fails the check.
ALLOWED_AXIOMS: frozenset[str] = frozenset({
    "ClassicalDedekindReals.sig_forall_dec",
    "ClassicalDedekindReals.sig_not_dec",
    "FunctionalExtensionality.functional_extensionality_dep",
    "Classical_Prop.classic",
    "PropExtensionality.propositional_extensionality",
    "ClassicalEpsilon.constructive_indefinite_description",
})

#: words a proof file must not contain: unfinished proofs and axioms of our own
FORBIDDEN_WORDS = ("Admitted", "admit", "Axiom", "Axioms", "Parameter", "Parameters", "Conjecture")

_REQUIRE = re.compile(rf"From\s+{LOGICAL_ROOT}\s+Require\s+(?:Import\s+|Export\s+)?([^.]*)\.")
_THEOREM = re.compile(r"^\s*(?:Theorem|Lemma|Corollary|Proposition|Fact|Remark)\s+([A-Za-z_][A-Za-z0-9_']*)", re.M)
_COQ_FLAGS = ("-w", "-ambiguous-paths")


def _strip_comments(text: str) -> str:
    prev = None
    while prev != text:  # nested comments: innermost first
        prev, text = text, re.sub(r"\(\*(?:(?!\(\*).)*?\*\)", " ", text, flags=re.S)
    return text


def forbidden_words(text: str) -> list[str]:
    """The :data:`FORBIDDEN_WORDS` that occur as words in ``text`` outside comments."""
    code = _strip_comments(text)
    return [w for w in FORBIDDEN_WORDS if re.search(rf"(?<![A-Za-z0-9_']){w}(?![A-Za-z0-9_'])", code)]


def _imports(text: str) -> list[str]:
    out: list[str] = []
    for m in _REQUIRE.finditer(_strip_comments(text)):
        out.extend(m.group(1).split())
    return out


def compile_order(sources: Mapping[str, str]) -> list[str]:
    """The file names of ``sources`` (name -> text) in an order where every file
    comes after the files it requires (``From Catapult Require Import A B.``).
    Raises ``ValueError`` on an unknown import or a cycle."""
    deps = {}
    for name, text in sources.items():
        need = [f"{m}.v" for m in _imports(text)]
        unknown = [d for d in need if d not in sources]
        if unknown:
            raise ValueError(f"{name} requires {', '.join(unknown)}, not among {sorted(sources)}")
        deps[name] = need
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(n: str, path: tuple[str, ...]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            raise ValueError(f"import cycle: {' -> '.join(path + (n,))}")
        state[n] = 1
        for d in deps[n]:
            visit(d, path + (n,))
        state[n] = 2
        order.append(n)

    for n in sorted(sources):
        visit(n, ())
    return order


def coqc_version() -> str | None:
    """``coqc --version``'s first line, or None when coqc is not on PATH."""
    exe = shutil.which("coqc")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def _coquelicot_missing() -> str | None:
    exe = shutil.which("coqc")
    if exe is None:
        return "coqc is not on PATH (Debian: apt-get install coq libcoq-coquelicot)"
    try:
        out = subprocess.run([exe, "-where"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"coqc -where failed: {exc}"
    if out.returncode != 0 or not out.stdout.strip():
        said = (out.stderr or out.stdout).strip()[:200]
        return f"coqc -where failed (exit {out.returncode})" + (f": {said}" if said else "")
    where = Path(out.stdout.strip())
    if not (where / "user-contrib" / "Coquelicot" / "Coquelicot.vo").exists():
        return f"Coquelicot is not installed for this coqc (looked in {where}/user-contrib; " \
               "Debian: apt-get install libcoq-coquelicot)"
    return None


def coqc_available() -> bool:
    """True when ``coqc`` is on PATH and Coquelicot is installed for it."""
    return _coquelicot_missing() is None


def coq_missing_reason() -> str | None:
    """Why :func:`check` cannot run, or None when it can."""
    return _coquelicot_missing()


@dataclass(frozen=True)
class CoqFileResult:
    """One .v file: compiled (``ok``), or the error text (``error``); ``seconds`` spent."""

    name: str
    ok: bool
    error: str = ""
    seconds: float = 0.0
    theorems: tuple[str, ...] = ()


@dataclass(frozen=True)
class CoqResult:
    """What :func:`check` found.

    ``ran``: coqc was run (False: ``reason`` says why not). ``files``: per file, in
    compile order. ``theorems``: ``"File.name"`` of every theorem/lemma of a file
    that compiled. ``axioms``: every axiom ``Print Assumptions`` lists for them;
    ``foreign_axioms``: those not in :data:`ALLOWED_AXIOMS`; ``assumptions``:
    theorem -> its axioms (only with ``check(per_theorem=True)``); ``problems``:
    anything else ``Print Assumptions`` reported or failed on. ``missing``: :data:`COQ_THEOREMS` entries that were not
    accepted. ``ok``: every file compiled, no foreign axiom, nothing missing.
    """

    ran: bool
    reason: str = ""
    coqc: str = ""
    files: tuple[CoqFileResult, ...] = ()
    theorems: tuple[str, ...] = ()
    assumptions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    axioms: tuple[str, ...] = ()
    foreign_axioms: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    missing: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (self.ran and all(f.ok for f in self.files) and not self.foreign_axioms and not self.problems
                and not self.missing)

    def accepted(self, file: str, name: str) -> bool:
        """Whether Coq accepted theorem ``name`` of ``file`` with only allowed axioms
        (its own list when checked per theorem, else the union over all theorems)."""
        key = f"{Path(file).stem}.{name}"
        if key not in self.theorems or self.problems:
            return False
        if key in self.assumptions:
            return not set(self.assumptions[key]) - ALLOWED_AXIOMS
        return not self.foreign_axioms

    def proves(self, theorem_id: str, conclusion: str) -> bool:
        """Whether the :data:`COQ_THEOREMS` entry for (theorem_id, conclusion) was accepted."""
        entry = COQ_THEOREMS.get((theorem_id, conclusion))
        return entry is not None and self.accepted(*entry)

    def summary(self) -> str:
        if not self.ran:
            return f"Coq was not run: {self.reason}"
        lines = [f"{self.coqc}: {'all accepted' if self.ok else 'FAILED'} ({self.seconds:.1f} s)"]
        for f in self.files:
            lines.append(f"  {f.name}: {'ok' if f.ok else 'FAILED'} ({len(f.theorems)} theorems, {f.seconds:.1f} s)"
                         + ("" if f.ok else "\n    " + f.error.strip().replace("\n", "\n    ")))
        lines.append(f"  axioms used: {', '.join(self.axioms) or 'none'}")
        if self.foreign_axioms:
            lines.append(f"  axioms not allowed: {', '.join(self.foreign_axioms)}")
        lines.extend(f"  problem: {p}" for p in self.problems)
        for key in self.missing:
            lines.append(f"  not accepted: {key[0]} / {key[1]} -> {' '.join(COQ_THEOREMS[key])}")
        return "\n".join(lines)


def _parse_assumptions(text: str) -> tuple[list[str], list[str]]:
    """(axiom names, other headers) from the output of ``Print Assumptions``."""
    if "Closed under the global context" in text:
        return [], []
    axioms: list[str] = []
    other: list[str] = []
    header = None
    for line in text.splitlines():
        if not line.strip() or line[0].isspace():
            continue
        if line.rstrip().endswith(":") and " : " not in line:
            header = line.strip()
            if header != "Axioms:":
                other.append(header)
            continue
        name = line.split(":")[0].split()[0]
        if header == "Axioms:":
            axioms.append(name)
        else:
            other.append(f"{header} {name}")
    return axioms, other


def check(timeout: float = 120, source_dir: Path | str | None = None, per_theorem: bool = False) -> CoqResult:
    """Compile every ``.v`` file of ``source_dir`` (default :data:`COQ_DIR`) with
    ``coqc -Q <tmp> Catapult`` in dependency order inside a temporary directory
    (the source tree is not written to), then ``Print Assumptions`` every theorem
    of the files that compiled. A file whose dependency failed is reported as not
    compiled. ``timeout`` bounds the whole run (seconds).

    The axioms are read from one ``Print Assumptions`` of a tuple of every
    accepted theorem (their union: if it holds only :data:`ALLOWED_AXIOMS`, so
    does each theorem); ``per_theorem=True`` also lists them theorem by theorem
    in ``assumptions`` (about 0.7 s more per theorem)."""
    start = time.monotonic()
    missing_reason = _coquelicot_missing()
    if missing_reason is not None:
        return CoqResult(ran=False, reason=missing_reason)
    src = Path(source_dir) if source_dir is not None else COQ_DIR
    sources = {p.name: p.read_text(encoding="utf-8") for p in sorted(src.glob("*.v"))}
    if not sources:
        return CoqResult(ran=False, reason=f"no .v files in {src}")
    try:
        order = compile_order(sources)
    except ValueError as exc:
        return CoqResult(ran=True, reason=str(exc), coqc=coqc_version() or "coqc",
                         files=(CoqFileResult("(imports)", False, str(exc)),))
    exe = shutil.which("coqc")
    assert exe is not None
    results: dict[str, CoqFileResult] = {}
    union: tuple[str, ...] = ()
    with tempfile.TemporaryDirectory(prefix="catapult-coq-") as tmp:
        build = Path(tmp)
        for name, text in sources.items():
            (build / name).write_text(text, encoding="utf-8")
        for name in order:
            failed_deps = [f"{m}.v" for m in _imports(sources[name]) if not results[f"{m}.v"].ok]
            if failed_deps:
                results[name] = CoqFileResult(name, False, f"not compiled: requires {', '.join(failed_deps)}")
                continue
            bad = forbidden_words(sources[name])
            if bad:
                results[name] = CoqFileResult(name, False, f"contains {', '.join(bad)}")
                continue
            left = timeout - (time.monotonic() - start)
            t0 = time.monotonic()
            try:
                out = subprocess.run([exe, *_COQ_FLAGS, "-Q", ".", LOGICAL_ROOT, name], cwd=build,
                                     capture_output=True, text=True, timeout=max(left, 1))
            except subprocess.TimeoutExpired:
                results[name] = CoqFileResult(name, False, f"coqc timed out ({timeout:g} s for the whole check)",
                                              time.monotonic() - t0)
                continue
            ok = out.returncode == 0
            thms = tuple(_THEOREM.findall(_strip_comments(sources[name]))) if ok else ()
            results[name] = CoqFileResult(name, ok, "" if ok else (out.stderr + out.stdout).strip(),
                                          time.monotonic() - t0, thms)
        theorems = tuple(f"{Path(r.name).stem}.{t}" for r in results.values() for t in r.theorems)
        assumptions: dict[str, tuple[str, ...]] = {}
        problems: list[str] = []
        if theorems:
            mods = sorted({t.split(".")[0] for t in theorems})
            qualified = [f"{LOGICAL_ROOT}.{t}" for t in theorems]
            # one Print Assumptions over a tuple of every theorem gives the union of
            # their axioms (each costs ~0.7 s, mostly walking the Reals library)
            lines = [f"From {LOGICAL_ROOT} Require {' '.join(mods)}.",
                     f"Definition catapult_all_theorems := ({', '.join(qualified)}).",
                     'Redirect "assumptions_all" Print Assumptions catapult_all_theorems.']
            if per_theorem:
                lines += [f'Redirect "assumptions_{i}" Print Assumptions {q}.' for i, q in enumerate(qualified)]
            (build / "PrintAssumptions.v").write_text("\n".join(lines) + "\n", encoding="utf-8")
            left = timeout - (time.monotonic() - start)
            try:
                out = subprocess.run([exe, *_COQ_FLAGS, "-Q", ".", LOGICAL_ROOT, "PrintAssumptions.v"], cwd=build,
                                     capture_output=True, text=True, timeout=max(left, 1))
                if out.returncode != 0:
                    problems.append("Print Assumptions failed: " + (out.stderr + out.stdout).strip())
            except subprocess.TimeoutExpired:
                problems.append(f"Print Assumptions timed out ({timeout:g} s for the whole check)")
            outputs = [("all", build / "assumptions_all.out")]
            if per_theorem:
                outputs += [(t, build / f"assumptions_{i}.out") for i, t in enumerate(theorems)]
            for key, f in outputs:
                if not f.exists():
                    problems.append(f"no Print Assumptions output for {key}")
                    continue
                axioms, other = _parse_assumptions(f.read_text(encoding="utf-8"))
                if key == "all":
                    union = tuple(axioms)
                else:
                    assumptions[key] = tuple(axioms)
                problems.extend(f"{key}: {o}" for o in other)
    all_axioms = tuple(sorted(set(union).union(*assumptions.values())))
    foreign = tuple(sorted(set(all_axioms) - ALLOWED_AXIOMS))
    res_files = tuple(results[n] for n in order)
    accepted = set(theorems)
    missing = tuple(k for k, (f, n) in COQ_THEOREMS.items()
                    if f"{Path(f).stem}.{n}" not in accepted) if src == COQ_DIR else ()
    return CoqResult(ran=True, coqc=coqc_version() or "coqc", files=res_files, theorems=theorems,
                     assumptions=assumptions, axioms=all_axioms, foreign_axioms=foreign, problems=tuple(problems),
                     missing=missing,
                     seconds=time.monotonic() - start)


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    """``python -m proofs._coq``: ``--write``, ``--check-generated``, ``--run``."""
    parser = argparse.ArgumentParser(prog="python -m proofs._coq",
                                     description="Regenerate or check proofs/coq/Generated.v; run coqc on proofs/coq/.")
    parser.add_argument("--write", action="store_true", help="rewrite proofs/coq/Generated.v from the symbolic layer")
    parser.add_argument("--check-generated", action="store_true",
                        help="exit 1 if proofs/coq/Generated.v differs from what the symbolic layer gives")
    parser.add_argument("--run", action="store_true", help="compile proofs/coq/ with coqc and print assumptions")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    if not (args.write or args.check_generated or args.run):
        parser.print_usage(sys.stderr)
        return 2
    code = 0
    if args.write:
        print(f"wrote {write_generated()}")
    if args.check_generated:
        current = (COQ_DIR / GENERATED).read_text(encoding="utf-8")
        if current != generated_text():
            print(f"{COQ_DIR / GENERATED} is out of date: run python -m proofs._coq --write", file=sys.stderr)
            code = 1
        else:
            print(f"{COQ_DIR / GENERATED} is current")
    if args.run:
        res = check(timeout=args.timeout)
        print(res.summary())
        if res.ran and not res.ok:
            code = 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
