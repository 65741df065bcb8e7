"""Sphinx configuration of the course website (``make site``; see ``tools/build_site.py``).

The sources are a staging folder that ``tools/build_site.py`` fills with the notebooks as they
are in the repository; this folder holds only the configuration and two small extensions:
``notebook_cells.py`` (how question and widget cells show on a page) and ``page_links.py``
(each notebook page's download and "Open in Colab" links). Nothing is fetched from the
network while building, and the pages load nothing from outside the site: MathJax 3 comes
from npm (``.npm-tools/``, pinned in ``requirements/npm/``) and is copied into the site.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ConfigError

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))  # the site's extensions: notebook_cells, page_links
sys.path.insert(1, str(REPO))  # tools.course_address, the one reader of the course's address

#: MathJax 3 as npm installs it (``make .npm-tools/.installed-stamp``; ``make site`` does it).
MATHJAX = REPO / ".npm-tools" / "node_modules" / "mathjax" / "es5"
#: The one MathJax bundle the pages load, and the folders it loads parts from on demand
#: (fonts, TeX packages, the accessibility menu's pieces), copied to ``_static/mathjax/``.
MATHJAX_FILES = ("tex-mml-chtml.js", "input", "output", "a11y", "ui", "sre", "adaptors")

project = "autograd-lab"
author = "the autograd-lab authors"
copyright = "autograd-lab authors, MIT License"  # noqa: A001 - Sphinx's name for it
language = "en"

extensions = [
    "myst_nb",
    "sphinx_copybutton",
    "notebook_cells",
    "page_links",
]
root_doc = "index"
exclude_patterns = ["**/.ipynb_checkpoints"]
# Teacher notes are staged only by `make site-teachers` (tools/build_site.py --teachers).

# --- notebooks: rendered from their stored outputs, never executed -------------------------
nb_execution_mode = "off"
# Read through notebook_cells.py: question outputs hidden, a run note under widget cells.
nb_custom_formats = {".ipynb": ["notebook_cells.read_notebook", {}, False]}
# A question cell's output is behind a click (notebook_cells.py tags it hide-output).
nb_code_prompt_show = "Show {type}"
nb_code_prompt_hide = "Hide {type}"
# Prefer a widget's text/html picture (the SVG fallback in its display bundle) over the
# widget view: with no stored widget state a view renders blank, so never pick it.
nb_mime_priority_overrides = [
    ("html", "text/html", 5),
    ("html", "application/vnd.jupyter.widget-view+json", None),
]
# No require.js or widget manager from a CDN: the site shows widgets as pictures.
nb_ipywidgets_js: dict[str, dict[str, str]] = {}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# page_links.py reads [tool.autograd-lab] (the Colab link) from this checkout's pyproject.toml.
course_repository_root = str(REPO)

# --- math: MathJax 3 from the site's own files ---------------------------------------------
mathjax_path = "mathjax/tex-mml-chtml.js"

# --- the book theme --------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "autograd-lab"
# A browser asks every site for an icon; without one it logs a 404 on each page.
html_favicon = "favicon.svg"
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
html_context = {"default_mode": "light"}  # a fresh browser profile logs no error
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": False,  # page_links.py links the notebook itself
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "launch_buttons": {},
    "show_toc_level": 2,
}
copybutton_exclude = ".linenos, .gp, .go"


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Copy MathJax 3 into ``_static/mathjax/`` of a finished HTML build."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for name in MATHJAX_FILES:
        source = MATHJAX / name
        if source.is_dir():
            shutil.copytree(source, target / name, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / name)


def check_mathjax(app: Sphinx) -> None:
    if not (MATHJAX / MATHJAX_FILES[0]).is_file():
        raise ConfigError(
            "MathJax is not installed: run `make .npm-tools/.installed-stamp` (make site does)."
        )


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", check_mathjax)
    app.connect("build-finished", copy_mathjax)
