"""Where the course is published: the one setting, and the addresses made from it.

The root ``pyproject.toml`` holds it::

    [tool.autograd-lab]
    repository = "https://github.com/OWNER/REPO"   # empty or missing: not published
    branch = "main"

``make colab`` (:mod:`tools.build_colab`) and the course site (``site/page_links.py``) read it
here, so an "Open in Colab" link and a link to a file on GitHub are made one way. While the
repository is unset, neither writes a link anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import tomllib

#: Colab opens a notebook of a public GitHub repository at ``COLAB_HOST/OWNER/REPO/blob/…``.
COLAB_HOST = "https://colab.research.google.com/github"
GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")
BRANCH = re.compile(r"[A-Za-z0-9._/-]+")


class AddressError(ValueError):
    """``[tool.autograd-lab]`` holds a value no link can be made from (one sentence says why)."""


@dataclass(frozen=True)
class CourseAddress:
    """``[tool.autograd-lab]``: the public GitHub repository (None when unset) and its branch."""

    repository: str | None = None
    branch: str = "main"

    @property
    def published(self) -> bool:
        return self.repository is not None


def read_address(root: Path) -> CourseAddress:
    """``repository`` and ``branch`` of ``[tool.autograd-lab]`` in ``root/pyproject.toml``.

    An empty or missing ``repository`` (or no ``pyproject.toml``) means unset. A set one must
    be a GitHub address ``https://github.com/OWNER/REPO`` (Colab opens notebooks from GitHub by
    that path); it is kept without a trailing ``/`` or ``.git``.
    """
    path = root / "pyproject.toml"
    table: dict = {}
    if path.is_file():
        with open(path, "rb") as handle:
            table = tomllib.load(handle).get("tool", {}).get("autograd-lab", {})
    repository = str(table.get("repository") or "").strip() or None
    branch = str(table.get("branch") or "main").strip()
    if repository is not None:
        if not GITHUB.match(repository):
            raise AddressError(
                f"[tool.autograd-lab] repository = {repository[:60]!r} is not a GitHub "
                "address; write it as https://github.com/OWNER/REPO (or leave it empty)."
            )
        repository = repository.rstrip("/").removesuffix(".git")
    if not BRANCH.fullmatch(branch):
        raise AddressError(
            f"[tool.autograd-lab] branch = {branch[:40]!r} is not a branch name; write e.g. main."
        )
    return CourseAddress(repository, branch)


def colab_link(address: CourseAddress, path: str) -> str | None:
    """The "Open in Colab" address of the repository's notebook ``path`` (None: unset)."""
    if address.repository is None:
        return None
    match = GITHUB.match(address.repository)
    assert match is not None  # read_address checked it
    owner, repo = match.groups()
    return f"{COLAB_HOST}/{owner}/{repo}/blob/{address.branch}/{path}"


def github_link(address: CourseAddress, path: str, anchor: str = "") -> str | None:
    """The repository file ``path`` on GitHub at the configured branch (None: unset)."""
    if address.repository is None:
        return None
    url = f"{address.repository}/blob/{address.branch}/{path}"
    return f"{url}#{anchor}" if anchor else url
