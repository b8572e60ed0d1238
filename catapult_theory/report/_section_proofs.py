"""Report section: every theorem of the study, machine-checked (the ``proofs``
package), summarised in report.md with the full certificate beside it as
``certificate.md``.

:func:`compute_proofs` runs the proofs into a :class:`ProofsResult`;
:func:`render_proofs` writes its Markdown, :func:`proofs_data` its
``data/proofs.json`` and :func:`proofs_alerts` the failures flagged at the top
of the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ._markdown import md_table
from ._sections import CERTIFICATE, SILENT, Context, Reporter, Section, SectionOutput, register_section, write_atomic

if TYPE_CHECKING:
    from proofs import ProofResult

__all__ = ["ProofsResult", "compute_proofs", "render_proofs", "proofs_data", "proofs_alerts", "proofs_section",
           "CERTIFICATE", "CERTIFICATE_HTML"]

#: the typeset certificate beside it
CERTIFICATE_HTML = "certificate.html"


@dataclass(frozen=True)
class ProofsResult:
    """The proof results, the Markdown certificate and the generic theorem ids
    (whose rows are labelled ``theorem[model]``)."""

    results: tuple[ProofResult, ...]
    certificate: str
    generic: frozenset[str]

    @property
    def proved(self) -> int:
        """How many theorems were proved."""
        return sum(r.proved for r in self.results)

    @property
    def checked_steps(self) -> int:
        """Machine-checked steps over every theorem."""
        return sum(r.checked_steps for r in self.results)

    @property
    def smt_steps(self) -> int:
        """Identity and inequality steps the SMT solver also accepted."""
        return sum("z3" in s.checked_by for r in self.results for s in r.steps)

    @property
    def axioms(self) -> tuple[str, ...]:
        """The axioms the proofs used."""
        return tuple(sorted({a for r in self.results for a in r.axioms}))

    @property
    def seconds(self) -> float:
        """Time spent proving."""
        return sum(r.seconds for r in self.results)

    @property
    def failed(self) -> tuple[ProofResult, ...]:
        """The theorems that were not proved."""
        return tuple(r for r in self.results if not r.proved)

    def label(self, r: ProofResult) -> str:
        """``theorem[model]`` for a generic theorem, else the theorem id."""
        return f"{r.theorem}[{r.model}]" if r.theorem in self.generic else r.theorem


def compute_proofs(reporter: Reporter = SILENT,
                   prove: Callable[[], Sequence[ProofResult]] | None = None) -> ProofsResult:
    """Run every proof once (the same in ``--quick``: about 30 s) and render the
    Markdown certificate; ``prove`` replaces ``proofs.prove`` (e.g. a subset)."""
    import proofs

    reporter.progress("proving every theorem (about 30 s)")
    results = tuple((prove or proofs.prove)())
    res = ProofsResult(results, proofs.render(list(results), "md"), frozenset(proofs.GENERIC_THEOREMS))
    reporter.progress(f"{res.proved} of {len(results)} theorems proved; certificate written to {CERTIFICATE}")
    return res


def render_proofs(res: ProofsResult) -> str:
    """The section's Markdown: a verdict, one row per theorem with its checkers and
    axioms, and every failed step."""
    rows = []
    for r in res.results:
        z3 = sum("z3" in s.checked_by for s in r.steps)
        why = (", ".join(r.failed_steps) or r.error).replace("|", "\\|")
        status = "proved" if r.proved else f"**NOT PROVED** ({why})"
        rows.append([f"`{res.label(r)}`", r.model, f"{r.checked_steps} of {len(r.steps)}", str(z3),
                     ", ".join(r.axioms) or "none", status])
    n, failed = len(res.results), res.failed
    counts = (f"{res.checked_steps} kernel-checked steps, {res.smt_steps} of them also accepted by the SMT "
              f"solver; {res.seconds:.1f} s")
    if failed:
        verdict = f"**{len(failed)} of {n} theorems NOT PROVED**; {res.proved} proved ({counts})."
    else:
        verdict = f"All {n} theorems proved ({counts})."
    md = [verdict, "",
          f"Full certificate, every step with its claim, its hypotheses, how it was proved and which checkers "
          f"accepted it: [{CERTIFICATE}]({CERTIFICATE}) (typeset: [{CERTIFICATE_HTML}]({CERTIFICATE_HTML})). "
          "A step is an **identity**, a **certificate** (the "
          "claim's slack as facts times multipliers of known sign plus a remainder of known sign), a **chain**, "
          "an **induction**, a **case split**, an instance of a listed **axiom**, or a one-step fact at a GD "
          "**iterate**; the kernel checks exactly the printed claim and Z3 checks every identity and inequality "
          "again. What stays assumed: " + (", ".join(res.axioms) or "nothing") + " (textbook facts, listed with "
          "references in the certificate). The same run is `catapult prove`.", "",
          md_table(["theorem", "model", "steps checked", "Z3", "axioms", "status"], rows), ""]
    for r in failed:
        md += [f"`{res.label(r)}` not proved{': ' + r.error if r.error else ''}:", ""]
        md += [f"* step **{s.name}** ({s.kind}): {s.detail}" + (f"; {s.numeric}" if s.numeric else "")
               for s in r.steps if s.status == "failed"]
        md.append("")
    return "\n".join(md)


def proofs_alerts(res: ProofsResult) -> list[str]:
    """The failures to flag at the top of report.md (none when every theorem is proved)."""
    if not res.failed:
        return []
    names = ", ".join(f"`{res.label(r)}`" for r in res.failed)
    return [f"{len(res.failed)} of {len(res.results)} theorems not proved: {names}. "
            f"See [Proofs](#proofs) and [{CERTIFICATE}]({CERTIFICATE})."]


def proofs_data(res: ProofsResult) -> dict[str, Any]:
    """The numbers behind the section, for ``data/proofs.json``."""
    return {"certificate": CERTIFICATE, "proved": res.proved, "total": len(res.results),
            "theorems": [r.to_json() for r in res.results]}


def proofs_section(ctx: Context) -> SectionOutput:
    """Run every proof, write the certificate beside report.md and a
    one-row-per-theorem summary; a theorem that is not proved is an alert (top
    of report.md), not an exception."""
    from ._html import markdown_to_html

    res = compute_proofs(ctx)
    write_atomic(ctx.out / CERTIFICATE, res.certificate)
    write_atomic(ctx.out / CERTIFICATE_HTML,
                 markdown_to_html(res.certificate, ctx.out, "catapult_theory: proof certificate"))
    return SectionOutput(render_proofs(res), proofs_data(res), proofs_alerts(res))


#: measured (Python 3.11, SymPy 1.14, Z3 5.4, Coq 8.16): the proofs' SymPy and Z3 work above the process
#: with its libraries loaded, and the peak of the Coq checker (a separate process, running while
#: the proofs section's process holds its own memory); no array sizes to derive them from
PROOF_WORK_BYTES, COQ_BYTES = 130 * 2**20, 480 * 2**20


def proofs_memory(quick: bool) -> list[Any]:
    """The proofs section's memory beside the process: the symbolic work of the proofs and,
    where ``coqc`` is installed, the Coq checker it runs (both measured, :data:`COQ_BYTES`)."""
    import shutil

    from ..resources import Need

    coq = [Need("the Coq checker of proofs/coq (a separate process)", float(COQ_BYTES), "--only (fewer sections)")]
    return [Need("the SymPy and Z3 work of the proofs", float(PROOF_WORK_BYTES), "--only (fewer sections)"),
            *(coq if shutil.which("coqc") else [])]


register_section(Section("proofs", "Proofs", proofs_section, proofs_memory))
