# autograd-lab: `make lab` to teach/learn, `make classroom` for a dry run of a class on a local hub,
# `make check` before a commit (fast tier), `make test` to verify everything.
# Python 3.11 (the lock's torch build and the stored outputs were made with it).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV   := .venv
PY     := $(VENV)/bin/python
# One stamp shared by every target: a changed lock or pyproject rebuilds the environment.
# Two packages, both editable: autograd_lab (what a learner imports, ./pyproject.toml) and
# autograd_lab_course (lab launcher, classroom, grading; course/pyproject.toml).
STAMP  := $(VENV)/.installed-stamp
# Extra launcher options, e.g. `make lab LAB_ARGS="--port 8888 --no-browser"`.
LAB_ARGS ?=
# pytest workers for `make test` (pytest-xdist): auto = one per CPU core.
TEST_JOBS ?= auto
# Which notebooks `make notebooks` / `make sync` build: a number (NB=02, lesson and teacher
# note), a name (NB=chain_rule) or a path to a .md; empty means all of them.
NB ?=

# Node tools from npm (JupyterHub's configurable-http-proxy, the site's MathJax, axe-core),
# pinned in requirements/npm/, installed into a git-ignored folder; a changed pin reinstalls them.
NPM_TOOLS := .npm-tools
NPM_STAMP := $(NPM_TOOLS)/.installed-stamp
# pytest with bytecode caching on even where PYTHONDONTWRITEBYTECODE is set (CI images often
# set it): an EMPTY value turns it off, and without the cache every worker re-does the assertion
# rewriting of every test module and plugin on every run (about 4.5 s per process).
PYTEST := PYTHONDONTWRITEBYTECODE= $(PY) -m pytest
# Extra classroom options, e.g. `make classroom CLASSROOM_ARGS="--students 30 --port 8001"`.
CLASSROOM_ARGS ?=

.PHONY: lab classroom check test test-colab colab notebooks sync exercises site site-teachers bench lint env clean

$(STAMP): requirements/lock.txt pyproject.toml course/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	    echo "autograd-lab needs Python 3.11; run e.g. 'make PYTHON=/path/to/python3.11 ...'" >&2; \
	    exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . -e course
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (autograd-lab)" >/dev/null
	$(PY) -m autograd_lab_course.grading >/dev/null
	touch $(STAMP)

$(NPM_STAMP): requirements/npm/package.json requirements/npm/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	    echo "make classroom, make site and make test need Node.js 20+ with npm (apt-get install nodejs npm)" >&2; \
	    exit 1; }
	rm -rf $(NPM_TOOLS)
	mkdir -p $(NPM_TOOLS)
	cp requirements/npm/package.json requirements/npm/package-lock.json $(NPM_TOOLS)/
	cd $(NPM_TOOLS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

env: $(STAMP)

lab: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m autograd_lab_course.lab_launcher $(LAB_ARGS)

# A local JupyterHub with nbgrader for a dry run of a course (127.0.0.1 only; Ctrl-C stops it).
classroom: $(STAMP) $(NPM_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m autograd_lab_course.classroom $(CLASSROOM_ARGS)

# Before a commit: ruff and every test that starts no kernel, server, hub or browser (the tiers
# in tests/tiers.py), with fewer hypothesis examples (its time: docs/performance.md).
check: $(STAMP)
	$(PY) -m ruff check .
	$(PYTEST) -n $(TEST_JOBS) -m "not kernels and not npm" --hypothesis-profile=check -q tests

# Everything: ruff, every test of every tier, nbval on every notebook, the full hypothesis count.
test: $(STAMP) $(NPM_STAMP)
	$(PY) -m ruff check .
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PYTEST) -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder --hypothesis-profile=full

# Build each notebook from its .md and execute it: the only way outputs are produced.
notebooks: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m tools.run_notebooks $(NB)

# Write each .ipynb from its .md without running anything (markdown edits keep every output).
sync: $(STAMP)
	$(PY) -m tools.run_notebooks --no-execute $(NB)

# The course for Google Colab: colab/ (every lesson and student exercise, outputs cleared, an
# install cell first) and the Open-in-Colab links ([tool.autograd-lab] in pyproject.toml).
colab: $(STAMP)
	$(PY) -m tools.build_colab

# Regenerate the student versions of the exercises with nbgrader.
exercises: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m tools.build_exercises

# The course as a static website (Sphinx + myst-nb, offline, from the stored outputs) in
# site/_build/html: open its index.html, or copy the folder to any static host.
site: $(STAMP) $(NPM_STAMP)
	$(PY) -m tools.build_site

# The same site with the teacher notes, in site/_build/teachers (never the default; keep it
# off a public host).
site-teachers: $(STAMP) $(NPM_STAMP)
	$(PY) -m tools.build_site --teachers

bench: $(STAMP) $(NPM_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m benchmarks

# A second, Colab-like environment (requirements/colab-lock.txt: ipywidgets 7, no JupyterLab,
# a stand-in google.colab) that installs the wheel built from this checkout and runs every
# colab/ notebook top to bottom (tests/colab_run.py). Independent of .venv.
COLAB_VENV  := .venv-colab
COLAB_PY    := $(COLAB_VENV)/bin/python
COLAB_STAMP := $(COLAB_VENV)/.installed-stamp

# Every version is in the lock, so `--no-deps` resolves nothing (and ipywidgets 7 cannot pull
# in notebook and JupyterLab through widgetsnbextension).
$(COLAB_STAMP): requirements/colab-lock.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	    echo "make test-colab needs Python 3.11; run e.g. 'make PYTHON=/path/to/python3.11 ...'" >&2; \
	    exit 1; }
	rm -rf $(COLAB_VENV)
	$(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements/colab-lock.txt
	touch $(COLAB_STAMP)

test-colab: $(COLAB_STAMP)
	$(COLAB_PY) tests/colab_run.py

lint: $(STAMP)
	$(PY) -m ruff check .

# Never removes workspace/ or classroom/: they hold the students' saved work.
clean:
	rm -rf $(VENV) $(COLAB_VENV) $(NPM_TOOLS) test-artifacts site/_build
