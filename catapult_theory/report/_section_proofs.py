"""Report section: every theorem of the study, machine-checked (the ``proofs``
package), summarised in report.md with the full certificate beside it as
``certificate.md``."""

from __future__ import annotations

from ._markdown import md_table as _md_table
from ._reproduce import Context, Section, SectionOutput, register_section, write_atomic

__all__ = ["proofs_section", "CERTIFICATE"]

#: the certificate's file name in the report folder
CERTIFICATE = "certificate.md"


def _label(r, generic: set[str]) -> str:
    return f"{r.theorem}[{r.model}]" if r.theorem in generic else r.theorem


def proofs_section(ctx: Context) -> SectionOutput:
    """Run every proof once (the same in ``--quick``: about 6 s), write the
    Markdown certificate and a one-row-per-theorem summary; a theorem that is
    not proved is an alert (top of report.md), not an exception."""
    import proofs

    ctx.progress("proving every theorem (about 6 s)")
    results = proofs.prove()
    write_atomic(ctx.out / CERTIFICATE, proofs.render(results, "md"))
    generic = set(proofs.GENERIC_THEOREMS)
    n_proved = sum(r.proved for r in results)
    n_checked = sum(r.checked_steps for r in results)
    n_logical = sum(s.status == "logical" for r in results for s in r.steps)
    seconds = sum(r.seconds for r in results)
    ctx.progress(f"{n_proved} of {len(results)} theorems proved; certificate written to {CERTIFICATE}")

    rows = []
    for r in results:
        logical = sum(s.status == "logical" for s in r.steps)
        steps = f"{r.checked_steps}" + (f" (+{logical} logical)" if logical else "")
        why = (", ".join(r.failed_steps) or r.error).replace("|", "\\|")
        status = "proved" if r.proved else f"**FAILED** ({why})"
        rows.append([f"`{_label(r, generic)}`", r.model, steps, status])

    failed = [r for r in results if not r.proved]
    if failed:
        verdict = (f"**{len(failed)} of {len(results)} theorems FAILED**; {n_proved} proved "
                   f"({n_checked} machine-checked steps, {n_logical} logical steps; {seconds:.1f} s).")
    else:
        verdict = (f"All {len(results)} theorems proved ({n_checked} machine-checked steps, "
                   f"{n_logical} logical steps; {seconds:.1f} s).")
    md = [verdict, "",
          f"Full certificate, every step with its statement, how it was checked and its numeric "
          f"cross-check: [{CERTIFICATE}]({CERTIFICATE}). Steps are **identity** (simplifies to 0 with the "
          "sizes symbolic), **inequality** (a certificate SymPy verifies) or **logical** (induction / limit / "
          "contradiction: hypotheses and uses checked, the argument itself is not machine-checked); the same "
          "run is `catapult prove`.", "",
          _md_table(["theorem", "model", "checked steps", "status"], rows), ""]
    for r in failed:
        md.append(f"`{_label(r, generic)}` failed{': ' + r.error if r.error else ''}:")
        md.append("")
        for s in r.steps:
            if s.status == "failed":
                md.append(f"* step **{s.name}** ({s.kind}): {s.detail}"
                          + (f"; {s.numeric}" if s.numeric else ""))
        md.append("")

    alerts = []
    if failed:
        names = ", ".join(f"`{_label(r, generic)}`" for r in failed)
        alerts.append(f"{len(failed)} of {len(results)} theorems not proved: {names}. "
                      f"See [Proofs](#proofs) and [{CERTIFICATE}]({CERTIFICATE}).")
    data = {"certificate": CERTIFICATE, "proved": n_proved, "total": len(results),
            "theorems": [r.to_json() for r in results]}
    return SectionOutput("\n".join(md), data, alerts)


register_section(Section("proofs", "Proofs", proofs_section))
