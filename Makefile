# Two commands do all the set-up on a fresh clone:
#   make serve   build the graph (if missing or stale) and serve it on http://127.0.0.1:8000/
#   make test    run the whole test suite
# Both create the virtual environment in .venv and install the package on first use.

PYTHON ?= python3
VENV := .venv
INSTALLED := $(VENV)/.installed

.PHONY: serve test browser

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(INSTALLED)

serve: $(INSTALLED)
	$(VENV)/bin/kg serve

# Browser tests drive Debian's chromium (never a downloaded browser); install it when missing and root.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "make test needs chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

test: $(INSTALLED) browser
	$(VENV)/bin/pytest -q
