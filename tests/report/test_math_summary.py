"""Typeset formulas, numbered figures and the summary table of the report, checked on the
HTML itself with a parser (no browser needed; test_html_browser.py does the same in Chromium)."""

import json
import re
from html.parser import HTMLParser

import markdown
import numpy as np
import pytest

from catapult_theory.experiments import BoundaryMap, PhaseSweep
from catapult_theory.report import _reproduce as R
from catapult_theory.report._html import markdown_to_html, split_math
from catapult_theory.report._markdown import figure
from catapult_theory.report._summary import (CLAIMS, ROWS, ClaimRow, convergent, render_summary, status_label,
                                             sweep_row)
from catapult_theory.report._tex import derived_maps, plain, theorem_statement
from catapult_theory.symbolic import export_markdown, theory


class _Walk(HTMLParser):
    """Counts <math> elements, emphasis inside or around them, unread formulas, and the
    first cells of the summary tables."""

    def __init__(self):
        super().__init__()
        self.stack, self.maths, self.bad, self.unread, self.text_in_em = [], 0, [], 0, []
        self.cells, self._cell, self._col = [], None, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "math":
            self.maths += 1
            if any(t in ("em", "strong", "i", "b") for t in self.stack):
                self.bad.append("math inside emphasis")
        if tag in ("em", "strong") and "math" in self.stack:
            self.bad.append(f"<{tag}> inside math")
        if tag == "code" and "tex-unread" in (a.get("class") or ""):
            self.unread += 1
        if tag == "tr":
            self._col = 0
        if tag == "td":
            self._cell = "" if self._col == 0 else None
            self._col += 1
        self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack:
            top = self.stack.pop()
            if top == tag:
                break
        if tag == "td" and self._cell is not None:
            self.cells.append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if "em" in self.stack and "math" not in self.stack:
            self.text_in_em.append(data)


def _walk(page):
    w = _Walk()
    w.feed(page)
    return w


#: a line of prose with formulas that Markdown would otherwise wreck: products (*), subscripts (_), a bar (|)
_TRAP = r"Here $\eta*\lambda*r$ and $w_{2}' - w_{2}$ and $|x|^{2}$ sit in prose; *real emphasis* stays."


def test_formulas_are_set_aside_and_come_back_as_mathml(tmp_path):
    text = "\n".join([_TRAP, "", "| a | b |", "|---|---|", r"| $|v|^{2}$ | `$not math$` |", "",
                      "$$", r"\frac{a_1 * b_2}{c}", "$$", "", "```", "$ echo $HOME", "```"])
    protected, formulas = split_math(text)
    assert [f for f, _ in formulas] == [r"\eta*\lambda*r", "w_{2}' - w_{2}", "|x|^{2}", "|v|^{2}",
                                        r"\frac{a_1 * b_2}{c}"]
    assert [d for _, d in formulas] == [False] * 4 + [True]
    assert "$not math$" in protected and "$ echo $HOME" in protected  # code keeps its dollars
    page = markdown_to_html(text, tmp_path)
    w = _walk(page)
    assert w.maths == 5 and not w.bad and w.unread == 0
    assert w.text_in_em == ["real emphasis"]
    assert page.count("<td>") == 2 and page.count("<th>") == 2  # the bar inside the formula split no cell
    # the check can fail: the same text through plain Markdown turns the products into emphasis
    naive = markdown.markdown(text, extensions=["tables"])
    assert "<em>" in naive.split("real emphasis")[0]


def test_a_formula_latex2mathml_cannot_read_stays_visible_and_is_flagged(tmp_path):
    page = markdown_to_html(r"bad $\left( x$ and good $x^2$", tmp_path)
    w = _walk(page)
    assert w.unread == 1 and w.maths == 1 and r"\left( x" in page


def test_derived_maps_and_theorem_statements_typeset_completely(tmp_path):
    md = "\n\n".join([derived_maps(export_markdown(theory("uv"))), *theorem_statement("peak-law-uv").bullets(),
                      plain("lam = zeta**2 * theta_T psi**2 theta")])
    _, formulas = split_math(md)
    w = _walk(markdown_to_html(md, tmp_path))
    assert w.maths == len(formulas) > 10 and not w.bad and w.unread == 0
    assert not any(re.search(r"[*^=]|\b(eta|lam|theta|zeta)\b", t) for t in w.text_in_em), w.text_in_em
    assert "Bounds on the catapult window" not in md  # the window values appear with their status instead


def test_figures_are_numbered_captioned_and_anchored(tmp_path):
    body = "\n".join([*figure("figures/b.png", "second alt", r"Caption with $k^2/4$."),
                      *figure("figures/a.png", "first alt", "Plain caption.")])
    text = R.number_figures("See [Fig. {fig:a}](#fig-a) and [Fig. {fig:zz}](#fig-zz).\n\n" + body)
    assert "[Fig. 2](#fig-a)" in text and "(figure not drawn)" in text
    assert "*Figure 1. Caption with $k^2/4$.*" in text and "*Figure 2. Plain caption.*" in text
    page = markdown_to_html(text, tmp_path)
    assert page.count("<figure>") == 2 and page.count("<figcaption>Figure ") == 2
    assert 'alt="first alt"' in page and '<a id="fig-a"></a>' in page
    assert "<em>Figure" not in page  # the caption is a figcaption, its formula not in emphasis
    assert not _walk(page).bad


def _sweep(k, phase, bounds=None, status=None, boundaries=None):
    return PhaseSweep(model="t", k=np.asarray(k, float), phase=np.asarray(phase, dtype=object),
                      boundaries=boundaries if boundaries is not None else {"catapult_onset": 2.0, "divergence": 3.5},
                      final={}, bounds=bounds or {}, bound_status=status or {})


def test_convergent_islands_from_the_grid_and_from_the_sweep():
    k = [3.0, 3.4, 3.6, 3.8, 3.9, 4.0, 4.1]
    ph = ["catapult", "catapult", "divergent", "catapult", "catapult", "divergent", "lazy"]
    largest, islands = convergent(_sweep(k, ph))
    assert largest == 4.1
    assert [i["interval"] for i in islands] == [[3.8, 3.9], [4.1, 4.1]] and islands[0]["k"] == [3.8, 3.9]
    assert convergent(_sweep(k[:2], ph[:2])) == (3.4, [])  # no divergence: no island
    # the sweep's own boundary and islands (the phases contract) take precedence over the grid
    own = BoundaryMap({"catapult_onset": 2.0, "divergence": 3.5, "largest_convergent": 4.12},
                      {"largest_convergent": {"status": "refined", "interval": [4.1, 4.14], "tol": 0.01,
                                              "islands": [{"interval": [3.75, 3.95], "k": [3.8, 3.9],
                                                           "phases": ["catapult", "catapult"]}]}}, [])
    largest, islands = convergent(_sweep(k, ph, boundaries=own))
    assert largest == 4.12 and islands[0]["interval"] == [3.75, 3.95]


def test_status_labels_never_promote_a_value_to_a_bound():
    assert status_label({"rigorous": True, "theorem": "t-1", "hypotheses_hold": True}) == "rigorous: t-1"
    assert status_label({"rigorous": True, "theorem": "t-1", "hypotheses_hold": False}) == \
        "hypotheses fail here: t-1"
    assert status_label({"rigorous": False, "theorem": None, "hypotheses_hold": True}) == "heuristic"
    assert status_label({}) == "heuristic"


def test_summary_has_a_row_per_theory_row_and_claim_with_status_and_islands():
    st = {"naive": {"rigorous": False, "theorem": None, "hypotheses_hold": True, "why": "heuristic"},
          "feature": {"rigorous": True, "theorem": "catapult-window-quadratic-bias", "hypotheses_hold": True,
                      "why": "proven"}}
    sw = _sweep([3.0, 3.6, 3.9, 4.2], ["catapult", "divergent", "catapult", "divergent"],
                {"naive": 4.0, "feature": 1.75}, st)
    row = sweep_row("6", "quadratic", sw, "used here", ("figures/bias_toy_phases.png",))
    claim = ClaimRow("peak-height", "uv", "exact map", "slope 1.0", {"slope": 1.0}, "peak-law-uv",
                     ("figures/uv_peak_law.png",))
    md = render_summary({"6": row}, {"peak-height": claim})
    lines = [ln for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("| §")]
    firsts = [ln.split("|")[1].strip() for ln in lines]
    assert firsts == list(ROWS) + list(CLAIMS)
    six = lines[list(ROWS).index("6")]
    assert "`naive` = 4, heuristic, ratio 1.14" in six
    assert "`feature` = 1.75, rigorous: catapult-window-quadratic-bias, ratio 0.5" in six
    assert "converges again above the first divergence at 3.9" in six
    assert "[Fig. {fig:bias_toy_phases}](#fig-bias_toy_phases)" in six
    assert sum("not run in this report" in ln for ln in lines) == len(ROWS) - 1 + len(CLAIMS) - 1
    data = json.loads(json.dumps(row.to_dict()))
    assert data["largest_convergent"] == 3.9 and data["islands"][0]["k"] == [3.9]
    assert data["bounds"][0] == {"name": "naive", "value": 4.0, "rigorous": False, "theorem": None,
                                 "hypotheses_hold": True, "status": "heuristic",
                                 "ratio_to_divergence": pytest.approx(4 / 3.5)}


def test_reproduce_writes_the_summary_first_and_rows_into_results_json(tmp_path, fake_sections):
    sw = _sweep([1.0, 3.0, 4.5], ["lazy", "catapult", "divergent"])

    def section(ctx):
        link = "figures/one.png"
        (tmp_path / "figures").mkdir(exist_ok=True)
        (tmp_path / "figures" / "one.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        md = "\n".join(["Text with $\\eta\\lambda$.", "", *figure(link, "alt", "Caption.")])
        return R.SectionOutput(md, {}, summary=[sweep_row("1", "t", sw, "tiny", (link,))])

    fake_sections.append(R.Section("t", "T", section))
    assert R.reproduce(tmp_path, verbose=False) == 0
    report = (tmp_path / "report.md").read_text()
    assert report.index("## Summary") < report.index("## T")
    assert "[Fig. 1](#fig-one)" in report and "*Figure 1. Caption.*" in report
    res = json.loads((tmp_path / "results.json").read_text())
    assert set(res["rows"]) == {"1"} and res["rows"]["1"]["divergence"] == 3.5
    assert res["rows"]["1"]["asked"]["settings"] == ROWS["1"][2]
    w = _walk((tmp_path / "report.html").read_text())
    assert w.maths == 1 and not w.bad and w.unread == 0
    assert [c for c in w.cells if c in ROWS] == list(ROWS)


def test_short_log_axes_get_at_least_three_labelled_ticks():
    from catapult_theory.report._plots import _pyplot, readable_log_ticks

    plt = _pyplot()
    fig, ax = plt.subplots()
    ax.semilogy([1, 2], [0.008, 0.6])

    def labels():
        fig.canvas.draw()
        lo, hi = ax.get_ylim()
        return [t.get_text() for t, v in zip(ax.get_yticklabels(), ax.get_yticks()) if lo <= v <= hi and t.get_text()]

    assert len(labels()) < 3  # matplotlib alone labels only the decades here
    readable_log_ticks(fig)
    assert len(labels()) >= 5 and "0.05" in labels()
    plt.close(fig)
