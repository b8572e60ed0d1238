"""Sphinx directives that take the documentation's formulas and CLI reference from the package.

Nothing the package derives is typed into the pages: when the site builds,

* ``catapult-theory MODEL`` prints the derived theory of a registered model (its one-step
  map, named invariants, weight-norm lemma, thresholds and window; ``:parts:`` picks some),
  from :func:`catapult_theory.symbolic.latex_rows`, the rows of ``catapult derive --format
  latex``;
* ``catapult-derivation MODEL`` prints what the word algebra derives before any closure
  (:func:`catapult_theory.symbolic.derivation_latex_rows`);
* ``catapult-bounds MODEL`` prints the bound catalogue of a family
  (:func:`catapult_theory.symbolic.bound_latex`, what each bound rests on, its theorem);
* ``catapult-theorem ID`` states a theorem of ``catapult prove`` (its statement in words,
  hypotheses and conclusions, as the certificate prints them; the proof is not run);
* ``catapult-theorem-list`` lists every theorem of ``catapult prove`` with the model(s) it
  is about and its statement in words (the proofs are built, not run);
* ``catapult-cli`` prints ``catapult --help`` and the help of every command and family,
  from :func:`catapult_theory.cli.parser`.

``-D catapult_docs_api=0`` builds every page but the Python API reference, whose autodoc
takes three quarters of a full build (the tests' default run builds the site so; the full
build is a slow test).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

PARTS = ("update", "named", "lemma", "thresholds", "window")


def _math_block(directive: SphinxDirective, rows: list[str]) -> nodes.math_block:
    """Display math of ``align*`` rows (``lhs &= rhs``), aligned at ``&`` (Sphinx wraps several
    rows in ``split``; a single row needs no alignment mark)."""
    latex = " \\\\\n".join(rows) if len(rows) > 1 else rows[0].replace(" &", " ", 1)
    node = nodes.math_block(latex, latex, nowrap=False, number=None, label=None,
                            docname=directive.env.docname)
    directive.set_source_info(node)
    return node


def _ask(directive: SphinxDirective, what: Any, *args: Any) -> Any:
    """``what(*args)``, a refusal of the package (an unknown model, ...) as the directive's error."""
    try:
        return what(*args)
    except (ValueError, KeyError) as exc:  # InvalidInput is a ValueError
        raise directive.error(f"{directive.name}: {exc}") from None


def _paragraph(*children: nodes.Node) -> nodes.paragraph:
    return nodes.paragraph("", "", *children)


class TheoryDirective(SphinxDirective):
    """``catapult-theory MODEL`` with ``:parts: update lemma ...`` (default: every part)."""

    required_arguments = 1
    option_spec = {"parts": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        from catapult_theory.symbolic import latex_rows, theory

        name = self.arguments[0]
        parts = self.options.get("parts", " ".join(PARTS)).split()
        unknown = [p for p in parts if p not in PARTS]
        if unknown:
            raise self.error(f"unknown part {unknown[0]!r}; parts: {', '.join(PARTS)}")
        rows = latex_rows(_ask(self, theory, name))
        chosen = [r for p in parts for r in rows[p]]
        if not chosen:
            raise self.error(f"model {name!r} has none of the parts {parts}")
        return [_math_block(self, chosen)]


class DerivationDirective(SphinxDirective):
    """``catapult-derivation MODEL``: f, lam, w2 in the word algebra and the GD step."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from catapult_theory.symbolic import derivation_latex_rows, theory

        return [_math_block(self, derivation_latex_rows(_ask(self, theory, self.arguments[0]).derivation))]


class BoundsDirective(SphinxDirective):
    """``catapult-bounds MODEL``: every bound of the family's catalogue."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from catapult_theory.symbolic import bound_catalog, bound_latex

        out: list[nodes.Node] = []
        for name, spec in _ask(self, bound_catalog, self.arguments[0]).items():
            kind = (f"rigorous, proved by {spec.theorem}" if spec.rigorous and spec.theorem else
                    "rigorous" if spec.rigorous else "not rigorous (a heuristic)")
            out.append(_paragraph(nodes.strong("", name), nodes.Text(f" ({kind})")))
            out.append(_math_block(self, bound_latex(spec).split(" \\\\\n")))
            if spec.rests_on or spec.hypotheses:
                items = nodes.bullet_list()
                for text in [*spec.rests_on, *(f"hypothesis: {h}" for h in spec.hypotheses)]:
                    items += nodes.list_item("", _paragraph(nodes.Text(text)))
                out.append(items)
        return out


class TheoremDirective(SphinxDirective):
    """``catapult-theorem ID``: a family theorem's statement, hypotheses and conclusions."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        import proofs

        tid = self.arguments[0]
        if tid not in proofs.FAMILY_THEOREMS:
            raise self.error(f"not a family theorem of catapult prove: {tid!r}")
        th = proofs.theorems([tid])[0].build()
        names = proofs.symbol_latex(th.definitions)

        def math(rel: Any) -> nodes.math:
            tex = proofs.formula(rel[0] if isinstance(rel, tuple) else rel, names)
            return nodes.math(tex, tex)

        out: list[nodes.Node] = [_paragraph(nodes.literal("", tid), nodes.Text(f" ({th.model}): {th.title}"))]
        for label, rels in (("Hypotheses", th.hypotheses), ("Conclusions", th.conclusion)):
            if not rels:
                continue
            items = nodes.bullet_list()
            for rel in rels:
                items += nodes.list_item("", _paragraph(math(rel)))
            out += [_paragraph(nodes.emphasis("", label)), items]
        return out


class TheoremListDirective(SphinxDirective):
    """``catapult-theorem-list``: every theorem id of ``catapult prove``, its model(s) and its
    statement in words (a generic theorem's as built for its first default family)."""

    def run(self) -> list[nodes.Node]:
        import proofs

        items = nodes.bullet_list()
        for tid in proofs.THEOREM_IDS:
            planned = proofs.theorems([tid])[0]
            about = (f"generic; by default for {', '.join(proofs.default_families(tid))}" if planned.generic
                     else planned.model)
            th = planned.build()
            items += nodes.list_item("", _paragraph(nodes.literal("", tid), nodes.Text(f" ({about}): {th.title}")))
        return [items]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


class CLIDirective(SphinxDirective):
    """``catapult-cli``: one section per command (and per family of ``derive``, ``run`` and
    ``phases``) with its ``--help``, at a fixed width of 100 columns."""

    def _section(self, title: str, parser: argparse.ArgumentParser, level: int) -> nodes.section:
        section = nodes.section(ids=[nodes.make_id("cli " + title)], names=[nodes.fully_normalize_name(title)])
        section += nodes.title("", "", nodes.literal("", title))
        text = parser.format_help()
        block = nodes.literal_block(text, text, language="text")
        self.set_source_info(block)
        section += block
        for name, sub in _subcommands(parser).items():
            section += self._section(f"{title} {name}", sub, level + 1)
        return section

    def run(self) -> list[nodes.Node]:
        from catapult_theory.cli import parser

        previous = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "100"
        try:
            top = parser()
            text = top.format_help()
            out: list[nodes.Node] = [nodes.literal_block(text, text, language="text")]
            out += [self._section(f"catapult {name}", sub, 1) for name, sub in _subcommands(top).items()]
        finally:
            if previous is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = previous
        return out


def _skip_class_aliases(app: Any, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    """A class attribute whose value is a class (``ModelFamily.Derive = Derive``) is an alias of
    a class the module documents itself: skip it (documented twice otherwise)."""
    if what == "class" and isinstance(obj, type):
        return True
    return None


API_PAGE = "api"


def _without_api(app: Any, docname: str, source: list[str]) -> None:
    """With ``catapult_docs_api`` off, the API page is a one-line note (links to it still work)."""
    if docname == API_PAGE and not app.config.catapult_docs_api:
        source[0] = ("# Python API reference\n\nLeft out of this build (`-D catapult_docs_api=0`); "
                     "the full build generates it from the docstrings.\n")


def setup(app: Any) -> dict[str, Any]:
    """Register the directives and the ``catapult_docs_api`` switch."""
    app.add_config_value("catapult_docs_api", True, "env", types=[bool, int])
    app.connect("source-read", _without_api)
    app.connect("autodoc-skip-member", _skip_class_aliases)
    app.add_directive("catapult-theory", TheoryDirective)
    app.add_directive("catapult-derivation", DerivationDirective)
    app.add_directive("catapult-bounds", BoundsDirective)
    app.add_directive("catapult-theorem", TheoremDirective)
    app.add_directive("catapult-theorem-list", TheoremListDirective)
    app.add_directive("catapult-cli", CLIDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
