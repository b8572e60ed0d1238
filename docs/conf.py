"""Sphinx configuration of the catapult_theory documentation (``sphinx-build -W docs DIR``).

Pages are Markdown (MyST); the API reference comes from the docstrings (autodoc, with
napoleon reading the numpy-style sections); the theory page's formulas and the CLI
reference are generated from the package by ``_ext/catapult_docs.py`` when the site builds.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

import catapult_theory  # noqa: E402

project = "catapult_theory"
author = "The catapult_theory authors"
copyright = "the catapult_theory authors, MIT licence"
version = release = catapult_theory.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "catapult_docs",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# docstrings: reST with numpy-style sections (napoleon), members in source order
napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": False}

html_theme = "furo"
html_title = f"catapult_theory {release}"
html_static_path: list[str] = []
