"""The documentation: every public definition of the package (functions, classes, their public
methods) has a docstring; the site under docs/ builds with warnings as errors and shows the
package's own formulas and commands; the README is a first visit's page whose example output is
real; the version is defined once; the changelog and the citation file are well formed."""

import argparse
import ast
import html
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import catapult_theory

PACKAGE = Path(catapult_theory.__file__).parent
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _undocumented(tree: ast.Module, prefix: str = "") -> list[str]:
    missing = []
    for node in tree.body:
        if isinstance(node, DEFS) and not node.name.startswith("_"):
            if ast.get_docstring(node) is None:
                missing.append(prefix + node.name)
            if isinstance(node, ast.ClassDef) and not prefix:
                missing += _undocumented(node, node.name + ".")
    return missing


def test_public_definitions_have_docstrings():
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if ast.get_docstring(tree) is None and path.name != "__main__.py":
            missing.append(f"{rel}: module")
        missing += [f"{rel}: {name}" for name in _undocumented(tree)]
    assert not missing, missing


def test_the_check_finds_an_undocumented_definition():
    tree = ast.parse("def public():\n    pass\n\nclass C:\n    def method(self):\n        pass\n")
    assert _undocumented(tree) == ["public", "C", "C.method"]


# ----------------------------------------------------------------------------- the site
ROOT = PACKAGE.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"


def _sphinx(source: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    """``sphinx-build -W`` (warnings are errors) of ``source`` into ``out``."""
    return subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", *options,
                           "-d", str(out / ".doctrees"), str(source), str(out)],
                          capture_output=True, text=True, timeout=900)


def _need_docs_extra() -> None:
    for module in ("sphinx", "myst_parser", "furo"):
        pytest.importorskip(module, reason=f"the docs extra is not installed ({module} missing): "
                                           "pip install -e '.[docs]'")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built once under -W, every page but the API reference (``-D catapult_docs_api=0``:
    its autodoc is three quarters of a full build, which is the slow test below)."""
    _need_docs_extra()
    out = tmp_path_factory.mktemp("docs") / "html"
    proc = _sphinx(DOCS, out, "-D", "catapult_docs_api=0")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def _check_theory_page(page: str) -> None:
    """The theory page shows the package's own formulas: the rows of ``catapult derive --format
    latex``, the bound catalogue's rows and the theorems' statements."""
    from catapult_theory.symbolic import bound_catalog, bound_latex, latex_rows, theory

    uv = latex_rows(theory("uv"))
    for part in ("update", "thresholds", "lemma", "window"):
        rows = uv[part] if len(uv[part]) > 1 else [uv[part][0].replace(" &", " ", 1)]  # one row: not aligned
        for row in rows:
            assert html.escape(row, quote=False) in page, row
    for row in latex_rows(theory("pure-quadratic"))["named"]:
        assert html.escape(row, quote=False) in page, row
    for spec in bound_catalog("quadratic-bias").values():
        assert html.escape(bound_latex(spec), quote=False) in page, spec.name
    for tid in ("uv-map", "catapult-window-uv", "divergence-shift-uv", "peak-law-uv", "relu-one-datum"):
        assert f'<p><code class="docutils literal notranslate"><span class="pre">{tid}</span></code> (' in page, tid


def _check_cli_page(page: str) -> None:
    """The CLI page has a section with the help of every command, and of every family under run."""
    from catapult_theory.cli import parser

    commands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name in commands:
        assert f'id="cli-catapult-{name}"' in page, name
    assert 'id="cli-catapult-run-uv"' in page and "--eta-lambda K" in page


def _check_proofs_page(page: str) -> None:
    """The proofs page lists every theorem of ``catapult prove`` with its statement in words."""
    import proofs

    for planned in proofs.theorems(proofs.THEOREM_IDS):
        if planned.generic and planned.model != proofs.default_families(planned.id)[0]:
            continue
        entry = f'<span class="pre">{planned.id}</span></code> ('
        assert entry in page, planned.id
        title = html.escape(planned.build().title, quote=False).replace("'", "’")
        assert title in page.split(entry, 1)[1].split("</li>", 1)[0], planned.id


API_NAMES = ("catapult_theory.symbolic.theory", "catapult_theory.experiments.sweep_uv", "proofs.prove",
             "catapult_theory.display.theory_latex", "catapult_theory.grid.grid")


@pytest.mark.xdist_group("docs")
def test_the_documentation_builds_with_warnings_as_errors(site):
    """The site builds under -W: the theory page shows the package's formulas, the CLI page every
    command's help; the API page is the note of this build."""
    _check_theory_page((site / "theory.html").read_text(encoding="utf-8"))
    _check_cli_page((site / "cli.html").read_text(encoding="utf-8"))
    _check_proofs_page((site / "proofs.html").read_text(encoding="utf-8"))
    for page in ("getting-started", "tutorial", "json", "limits", "performance", "models", "proofs", "falsify",
                 "grids", "notebooks", "changelog"):
        assert (site / f"{page}.html").exists(), page
    assert "Left out of this build" in (site / "api.html").read_text(encoding="utf-8")


@pytest.mark.xdist_group("docs")
def test_the_checks_catch_a_page_without_the_formulas(site):
    """The page checks fail on a theory page with a formula dropped, a CLI page with a command
    dropped and a theorem list with a theorem dropped."""
    page = (site / "theory.html").read_text(encoding="utf-8")
    from catapult_theory.symbolic import latex_rows, theory

    row = latex_rows(theory("uv"))["update"][0]
    with pytest.raises(AssertionError):
        _check_theory_page(page.replace(html.escape(row, quote=False), ""))
    cli = (site / "cli.html").read_text(encoding="utf-8")
    with pytest.raises(AssertionError):
        _check_cli_page(cli.replace('id="cli-catapult-falsify"', ""))
    listing = (site / "proofs.html").read_text(encoding="utf-8")
    with pytest.raises(AssertionError):
        _check_proofs_page(listing.replace('<span class="pre">peak-law-uv</span>', ""))


@pytest.mark.slow
def test_the_full_documentation_builds_with_the_api_reference(tmp_path):
    """The whole site with the API reference from the docstrings (autodoc), under -W."""
    _need_docs_extra()
    out = tmp_path / "html"
    proc = _sphinx(DOCS, out)
    assert proc.returncode == 0, proc.stderr[-4000:]
    _check_theory_page((out / "theory.html").read_text(encoding="utf-8"))
    api = (out / "api.html").read_text(encoding="utf-8")
    for name in API_NAMES:
        assert f'id="{name}"' in api, name


def test_the_theory_page_types_no_formula():
    """Every display formula of the theory page comes from a directive that asks the package."""
    text = (DOCS / "theory.md").read_text(encoding="utf-8")
    assert "$$" not in text and "{math}" not in text and "\\begin{" not in text
    assert text.count("```{catapult-theory}") == 7 and text.count("```{catapult-bounds}") == 4


def test_a_broken_page_fails_the_build(tmp_path):
    """-W turns a warning into a failed build, and a directive that cannot ask the package fails:
    one build of four broken pages names each of them."""
    _need_docs_extra()
    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text((DOCS / "conf.py").read_text(encoding="utf-8").replace(
        "ROOT = Path(__file__).resolve().parents[1]", f"ROOT = Path({str(ROOT)!r})").replace(
        'Path(__file__).resolve().parent / "_ext"', f"Path({str(DOCS / '_ext')!r})"), encoding="utf-8")
    broken = {"model": "```{catapult-theory} no-such-model\n```\n",
              "part": "```{catapult-theory} uv\n:parts: nope\n```\n",
              "theorem": "```{catapult-theorem} no-such-theorem\n```\n",
              "link": "{doc}`missing-page`\n"}
    (source / "index.md").write_text("# Index\n\n```{toctree}\n" + "\n".join(broken) + "\n```\n", encoding="utf-8")
    for name, body in broken.items():
        (source / f"{name}.md").write_text(f"# {name}\n\n{body}", encoding="utf-8")
    proc = _sphinx(source, tmp_path / "bad")
    assert proc.returncode != 0
    for name in broken:
        assert f"{name}.md" in proc.stderr, (name, proc.stderr)


# ----------------------------------------------------------------------------- the README
def test_the_readme_is_a_first_visit():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 150
    # the two commands: install and reproduce; install and test (the command CI runs)
    assert '    pip install ".[digits]" && catapult reproduce\n' in text
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").rstrip().splitlines()[-1]
    assert f"    {ci}\n" in text and ci == 'pip install -e ".[test,docs]" && python -m pytest'
    assert "sphinx-build -W docs docs/_build/html" in text  # where the documentation is
    import proofs

    named = re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`", text)  # the theorems it names exist
    assert named and set(named) <= set(proofs.THEOREM_IDS), named
    for page in ("getting-started", "tutorial", "theory", "cli", "api", "json", "limits", "performance"):
        assert (DOCS / f"{page}.md").exists(), page


def _readme_example() -> tuple[list[str], list[str]]:
    """The README's worked example: its command line and the output it shows."""
    block = re.search(r"\n    \$ catapult (.*?)\n((?:    .*\n|\n)*?)\n\S", README.read_text(encoding="utf-8"))
    assert block, "no worked example in the README"
    lines = [line[4:] for line in block.group(2).splitlines()]
    while lines and not lines[-1].strip():
        lines.pop()
    return block.group(1).split(), lines


def _compare_output(shown: list[str], printed: list[str]) -> None:
    """The shown output is the printed one, line for line; lines of round-off (the final loss near
    1e-32 and the GD-map deviation near 1e-16) only need the same label and the same scale."""
    assert len(shown) == len(printed), (shown, printed)
    for a, b in zip(shown, printed):
        if a.startswith(("final loss ", "max_rel_dev ")):
            assert a.split()[:2] == b.split()[:2]
            for x, y in zip(re.findall(r"\d\.\d+e-\d+", a), re.findall(r"\d\.\d+e-\d+", b)):
                assert 0.1 < float(x) / float(y) < 10, (a, b)
        else:
            assert a.rstrip() == b.rstrip(), (a, b)


def test_the_readme_example_shows_its_real_output(capsys):
    from catapult_theory.cli import main

    argv, shown = _readme_example()
    assert argv[:2] == ["run", "uv"]
    assert main(argv) == 0
    printed = capsys.readouterr().out.rstrip().splitlines()
    _compare_output(shown, printed)
    with pytest.raises(AssertionError):  # another run's output is caught
        _compare_output([line.replace("184.994", "184.995") for line in shown], printed)


def _tutorial_examples() -> dict[str, list[str]]:
    """The tutorial's console examples: command line (after ``catapult``) -> the output shown."""
    text = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    return {cmd: out.rstrip("\n").splitlines() for cmd, out in
            re.findall(r"```console\n\$ catapult (.*?)\n(.*?)```", text, flags=re.S)}


#: the tutorial's examples checked in the default run (under a second each); the slow test runs the others
#: whose output does not depend on the machine (prove prints timings, grid its pool)
TUTORIAL_FAST = ("derive uv", "run uv --width 1000 --eta-lambda 3 --steps 300", "derive mine.py")
TUTORIAL_SLOW = ("phases uv --width 1000 --k-min 0.1 --k-max 6 --num 60 --plot phases.png",
                 "run mine.py --width 300 --eta-lambda 3 --steps 500")


def _check_tutorial(commands: tuple[str, ...], folder: Path, monkeypatch, capsys) -> None:
    from catapult_theory.cli import main

    examples = _tutorial_examples()
    text = (DOCS / "models.md").read_text(encoding="utf-8")
    (folder / "mine.py").write_text(re.search(r"```python\n(# mine\.py.*?)```", text, flags=re.S).group(1),
                                    encoding="utf-8")
    monkeypatch.chdir(folder)
    for command in commands:
        assert main(shlex.split(command)) == 0, command
        _compare_output(examples[command], capsys.readouterr().out.rstrip().splitlines())


def test_the_tutorial_shows_real_output(tmp_path, monkeypatch, capsys):
    """The tutorial's quick examples print what it shows (its model file is the guide's)."""
    assert set(TUTORIAL_FAST + TUTORIAL_SLOW) <= set(_tutorial_examples())
    _check_tutorial(TUTORIAL_FAST, tmp_path, monkeypatch, capsys)


@pytest.mark.slow
def test_the_tutorial_shows_real_output_of_its_longer_runs(tmp_path, monkeypatch, capsys):
    _check_tutorial(TUTORIAL_SLOW, tmp_path, monkeypatch, capsys)
    assert (tmp_path / "phases.png").stat().st_size > 0


def test_the_readme_python_runs_as_shown():
    block = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S).group(1)
    ns: dict = {}
    exec(compile(block, "README.md", "exec"), ns)
    assert str(ns["th"].thresholds["eta_max"].eta) == "4/lam"
    assert ns["res"].phase == "catapult" and ns["res"].max_rel_dev < 1e-14


def test_the_documented_proof_file_proves(tmp_path, capsys):
    """The guide's own proof file proves; with the claim made false it does not."""
    from catapult_theory.cli import main

    text = (DOCS / "proofs.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(# mine_proof\.py.*?)```", text, flags=re.S).group(1)
    good = tmp_path / "mine_proof.py"
    good.write_text(block, encoding="utf-8")
    assert main(["prove", str(good)]) == 0
    assert "am-gm-two      2/2    2/2  proved" in capsys.readouterr().out
    bad = tmp_path / "bad_proof.py"
    bad.write_text(block.replace("2 * x * y", "3 * x * y"), encoding="utf-8")
    assert main(["prove", str(bad)]) == 1


# ----------------------------------------------------------------------------- version, changelog, citation
def test_the_version_is_defined_once():
    version = catapult_theory.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject and 'path = "catapult_theory/__init__.py"' in pyproject
    assignments = [p for p in sorted(PACKAGE.rglob("*.py")) if re.search(r"^__version__\s*=", p.read_text(
        encoding="utf-8"), flags=re.M)]
    assert assignments == [PACKAGE / "__init__.py"]


def test_version_flags(capsys):
    from catapult_theory.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"catapult_theory {catapult_theory.__version__}\n"
    proc = subprocess.run([sys.executable, "-m", "catapult_theory", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout == f"catapult_theory {catapult_theory.__version__}\n"


def test_the_changelog_keeps_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Keep a Changelog" in text
    releases = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, flags=re.M)
    assert releases[0] == ("Unreleased", "")
    assert (catapult_theory.__version__, releases[1][1]) == releases[1] and releases[1][1]
    kinds = set(re.findall(r"^### (\w+)$", text, flags=re.M))
    assert kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"} and "Added" in kinds


def _citation_errors(data: dict) -> list[str]:
    import jsonschema

    schema = json.loads((ROOT / "tests" / "data" / "citation-file-format-1.2.0.schema.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [e.message for e in validator.iter_errors(data)]


def test_the_citation_file_is_valid_cff():
    """CITATION.cff against the Citation File Format 1.2.0 schema (the schema cffconvert ships),
    with the package's version; a file without authors is caught."""
    import yaml

    data = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert _citation_errors(data) == []
    assert data["cff-version"] == "1.2.0" and data["version"] == catapult_theory.__version__
    broken = {k: v for k, v in data.items() if k != "authors"}
    assert _citation_errors(broken)
    assert _citation_errors({**data, "date-released": "7 Dec 2026"})
