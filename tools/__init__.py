"""Maintainer tools: build and execute the course notebooks (not part of the package)."""
