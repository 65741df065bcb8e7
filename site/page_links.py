"""Links on the course website's pages (a Sphinx extension for ``site/conf.py``).

Under the title of every lesson and exercise page: a link that downloads the notebook (the
file as it is in the repository, copied into the site's ``_downloads/``) and, where the course
has a public repository, an "Open in Colab" link. The repository is the one setting of the
root ``pyproject.toml``::

    [tool.autograd-lab]
    repository = "https://github.com/OWNER/REPO"   # empty or missing: no Colab link
    branch = "main"

A Colab link opens ``colab/<file>`` of that branch when the checkout has it (``make colab``
writes it: the notebook with a set-up cell for Colab), else the notebook's own path.

Links the pages were written with for the repository (``../README.md`` in a docs page) are
resolved against the repository: :class:`RepositoryFileLinks`.
"""

from __future__ import annotations

import posixpath
from pathlib import Path, PurePosixPath
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

from tools.course_address import (
    AddressError,
    CourseAddress,
    colab_link,
    github_link,
    read_address,
)

logger = logging.getLogger(__name__)

LINKS_CLASS = "agl-page-links"


def repository_path(docname: str) -> str | None:
    """Where a site page's notebook lives in the repository (None: not a notebook page).

    ``lessons/NN_name`` → ``notebooks/NN_name.ipynb``;
    ``exercises/name`` → ``notebooks/exercises/release/name/name.ipynb``.
    """
    folder, _, name = docname.partition("/")
    if folder == "lessons" and name:
        return f"notebooks/{name}.ipynb"
    if folder == "exercises" and name:
        return f"notebooks/exercises/release/{name}/{name}.ipynb"
    return None


def source_path(docname: str) -> str | None:
    """The repository file a site page is made from (None: a page Sphinx makes itself)."""
    folder, _, name = docname.partition("/")
    if docname == "index":
        return "notebooks/00_start_here.ipynb"
    if folder == "docs" and name:
        return f"docs/{name}.md"
    if folder == "teacher-notes" and name:
        return f"notebooks/teacher-notes/{name}.ipynb"
    return repository_path(docname)


def site_page(path: str) -> str | None:
    """The site page made from repository file ``path`` (a lesson's ``.md`` twin included),
    or None when that file is not on the site."""
    parts = PurePosixPath(path)
    stem = parts.stem
    if parts.parent.as_posix() == "notebooks" and parts.suffix in (".md", ".ipynb"):
        return "index" if stem == "00_start_here" else f"lessons/{stem}"
    if parts.parent.as_posix() == "docs" and parts.suffix == ".md":
        return f"docs/{stem}"
    if parts.parent.as_posix() == "notebooks/teacher-notes" and parts.suffix == ".ipynb":
        return f"teacher-notes/{stem}"
    if parts.parent.parent.as_posix() == "notebooks/exercises/release" and \
            parts.parent.name == stem and parts.suffix == ".ipynb":
        return f"exercises/{stem}"
    return None


def colab_url(address: CourseAddress, docname: str, root: Path) -> str | None:
    """The "Open in Colab" address of a page's notebook: its ``colab/`` copy where the checkout
    has one, else the notebook itself; None when no repository is set."""
    path = repository_path(docname)
    if path is None:
        return None
    colab = f"colab/{PurePosixPath(docname).name}.ipynb"
    if docname.startswith("exercises/"):
        colab = f"colab/exercises/{PurePosixPath(docname).name}.ipynb"
    return colab_link(address, colab if (root / colab).is_file() else path)


class NotebookLinks(SphinxTransform):
    """Put the download (and Colab) links under the first title of a notebook page."""

    default_priority = 500

    def apply(self, **kwargs: Any) -> None:
        docname = self.env.docname
        if repository_path(docname) is None:
            return
        title = next(iter(self.document.findall(nodes.title)), None)
        if title is None:
            return
        filename = f"{PurePosixPath(docname).name}.ipynb"
        download = addnodes.download_reference(
            "", "", nodes.inline("", f"Download the notebook ({filename})"),
            refdoc=docname, reftarget=f"/{docname}.ipynb", refexplicit=True,
            refdomain="", reftype="download",
        )
        paragraph = nodes.paragraph("", "", download, classes=[LINKS_CLASS])
        root = Path(self.config.course_repository_root)
        try:
            url = colab_url(read_address(root), docname, root)
        except AddressError as exc:
            logger.warning(str(exc), location=docname)
            url = None
        if url is not None:
            paragraph += nodes.Text(" · ")
            paragraph += nodes.reference("", "Open in Colab", refuri=url)
        title.parent.insert(title.parent.index(title) + 1, paragraph)


class RepositoryFileLinks(SphinxTransform):
    """Links written for the repository, as the docs pages and notebooks are.

    A relative link from a page to another file of the repository (``../README.md``,
    ``../ARCHITECTURE.md#layout``) is resolved from where that page lives in the repository:
    to the site page made from that file when there is one, else to the file on GitHub when a
    repository is configured, else to plain text. A link to no file at all is left alone
    (myst-parser warns about it, which fails the build).
    """

    default_priority = 500

    def apply(self, **kwargs: Any) -> None:
        origin = source_path(self.env.docname)
        if origin is None:
            return
        root = Path(self.config.course_repository_root)
        address: CourseAddress | None = None
        for node in list(self.document.findall(addnodes.pending_xref)):
            target = str(node.get("reftarget", ""))
            if node.get("reftype") != "myst" or node.get("refdomain") == "doc" or \
                    "://" in target or target.startswith(("#", "mailto:")):
                continue
            path_part, _, anchor = target.partition("#")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(origin), path_part))
            if resolved.startswith("../") or not (root / resolved).exists():
                continue
            page = site_page(resolved)
            if page is not None and page in self.env.found_docs:
                node["refdomain"], node["reftarget"] = "doc", page
                node["reftargetid"] = anchor or None
                continue
            if address is None:
                try:
                    address = read_address(root)
                except AddressError as exc:
                    logger.warning(str(exc), location=node)
                    address = CourseAddress()
            url = github_link(address, resolved, anchor)
            content = node.children[0].deepcopy() if node.children else nodes.Text(target)
            if url is None:
                node.replace_self(content)
            else:
                node.replace_self(nodes.reference("", "", content, refuri=url))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("course_repository_root", "", "env", types=frozenset({str}))
    app.add_transform(NotebookLinks)
    app.add_transform(RepositoryFileLinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
