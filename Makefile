# autograd-lab: `make lab` to teach/learn, `make test` to verify. Everything else is for maintainers.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# One stamp shared by every target: a changed lock or pyproject rebuilds the environment.
STAMP  := $(VENV)/.installed-stamp

.PHONY: lab test notebooks exercises bench lint env clean

$(STAMP): requirements/lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (autograd-lab)" >/dev/null
	touch $(STAMP)

env: $(STAMP)

lab: $(STAMP)
	$(PY) -m autograd_lab.lab

test: $(STAMP)
	$(PY) -m ruff check .
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest

# Re-execute every lesson and teacher notebook in place: the only way outputs are produced.
notebooks: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m tools.run_notebooks

# Regenerate the student versions of the exercises with nbgrader.
exercises: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m tools.build_exercises

bench: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m benchmarks

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) workspace test-artifacts
