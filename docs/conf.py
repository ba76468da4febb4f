"""Sphinx configuration of the msme_stats documentation (MyST Markdown pages, autodoc API).

Build: ``make docs`` (HTML in ``docs/_build/html``, warnings are errors). The test suite builds
the site into a temporary folder (``tests/test_docs.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

project = "msme_stats"
author = "msme_stats developers"
copyright = "msme_stats developers, MIT licence"  # noqa: A001
release = version = "0.1.0"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "msme_docs",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

# numpydoc-style docstrings, with the package's own sections rendered as admonition-like blocks
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_custom_sections = [("Definition", "notes_style"), ("Source", "notes_style"),
                            ("Stata/R equivalent", "notes_style")]
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": False}

html_theme = "alabaster"
html_title = "msme_stats"
html_static_path: list[str] = []
html_last_updated_fmt = None
html_copy_source = False
