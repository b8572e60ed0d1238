"""report.html opens in a real headless browser (Chromium), which renders its embedded figures.

Skipped where no Chromium is installed (``apt install chromium`` on Debian); the page's
structure is also checked without a browser in test_resume.py.
"""

import shutil
import subprocess

import pytest

from catapult_theory.report import _reproduce as R

from .test_resume import _figure_section

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
NO_BROWSER = ("no Chromium on this machine (none of chromium, chromium-browser, google-chrome on PATH): "
              "report.html is not rendered in a browser here")


@pytest.mark.slow  # three browser starts: several seconds
@pytest.mark.skipif(BROWSER is None, reason=NO_BROWSER)
def test_report_html_renders_in_headless_chromium(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "SECTIONS", [R.Section("tiny", "Tiny", _figure_section([]))])
    monkeypatch.setattr(R, "_load_sections", lambda: None)
    out = tmp_path / "report"
    assert R.reproduce(out, verbose=False) == 0
    shot = tmp_path / "shot.png"
    dom = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                          (out / "report.html").as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr
    assert "catapult_theory: reproduction report" in dom.stdout and "data:image/png;base64," in dom.stdout
    # the embedded figure decodes: the browser reports its natural size through a tiny script
    probe = tmp_path / "probe.html"
    probe.write_text((out / "report.html").read_text().replace(
        "</body>", "<script>window.onload=()=>{document.title='img:'+[...document.images]"
                   ".map(i=>i.naturalWidth+'x'+i.naturalHeight).join(',')}</script></body>"))
    dom = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                          "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    title = dom.stdout.split("<title>")[1].split("</title>")[0]
    sizes = title.removeprefix("img:").split(",")
    assert title.startswith("img:") and sizes and all(s != "0x0" for s in sizes), title
    subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1000,800", (out / "report.html").as_uri()], capture_output=True, timeout=120,
                   check=False)
    assert shot.exists() and shot.stat().st_size > 5_000


def _formula_section(ctx):
    """A section whose Markdown holds the package's own formulas (a derived map, a theorem's
    conclusions) and a line of prose Markdown would turn into emphasis if the formulas were not protected."""
    from catapult_theory.report._tex import derived_maps, theorem_statement
    from catapult_theory.symbolic import export_markdown, theory

    md = "\n\n".join([derived_maps(export_markdown(theory("uv"))), *theorem_statement("peak-law-uv").bullets(),
                      r"Prose with $\eta*\lambda*r$ and $w_{2}' - w_{2}$ and *real emphasis*."])
    return R.SectionOutput(md)


@pytest.mark.slow  # a browser start: several seconds
@pytest.mark.skipif(BROWSER is None, reason=NO_BROWSER)
def test_formulas_are_mathml_elements_in_chromium(tmp_path, monkeypatch):
    from catapult_theory.report._html import split_math
    from catapult_theory.report._summary import ROWS

    monkeypatch.setattr(R, "SECTIONS", [R.Section("maths", "Maths", _formula_section)])
    monkeypatch.setattr(R, "_load_sections", lambda: None)
    out = tmp_path / "report"
    assert R.reproduce(out, verbose=False) == 0
    _, formulas = split_math((out / "report.md").read_text())
    probe = tmp_path / "probe.html"
    probe.write_text((out / "report.html").read_text().replace(
        "</body>", "<script>window.onload=()=>{const m=[...document.querySelectorAll('math')];"
                   "const rows=[...document.querySelectorAll('tr')].map(r=>r.cells[0]&&r.cells[0].textContent.trim());"
                   "document.title=JSON.stringify({n:m.length,mathml:m.every(e=>e instanceof MathMLElement),"
                   "emph:document.querySelectorAll('em math, strong math, math em, math strong').length,"
                   "unread:document.querySelectorAll('code.tex-unread').length,"
                   "height:Math.max(...m.map(e=>e.getBoundingClientRect().height)),rows:rows})}</script></body>"))
    dom = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                          "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr
    import html
    import json

    got = json.loads(html.unescape(dom.stdout.split("<title>")[1].split("</title>")[0]))
    assert got["n"] == len(formulas) > 10 and got["mathml"] and got["emph"] == 0 and got["unread"] == 0
    assert got["height"] > 10  # laid out as math (a fraction is taller than a line of text)
    assert [r for r in got["rows"] if r in ROWS] == list(ROWS)
