# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# The virtualenv's interpreter: the distribution's own CPython (/usr/bin/python3) where it is 3.10 or newer with venv,
# else python3 on PATH; `make install PY=...` chooses another. Debian and Ubuntu build theirs with PGO and LTO, and
# every ftspec command starts ~17% sooner on it than on a plain `./configure` build such as pyenv's default
# (`ftspec check` here: 0.27 s against 0.33 s median in paired runs). Only a new .venv takes the choice.
PY ?= $(shell for py in /usr/bin/python3 python3; do $$py -c 'import ensurepip, sys; \
	sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1 && { echo $$py; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser demo test lint bench clean

install: $(STAMP)

# torch is installed first and pinned, so nothing later pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	@test -n "$(PY)" || { echo "make install needs CPython 3.10+ with venv: apt install python3-venv, or PY=..."; exit 2; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev,tracking,mlflow,wandb,sweep,ray,review]" --config-settings editable_mode=compat  # a plain .pth: 20 ms less start-up than the import-hook finder
	touch $(STAMP)
	@# Bytecode, as pip writes for a wheel: an editable install under PYTHONDONTWRITEBYTECODE=1 would compile
	@# ftspec from source on every command (~45 ms of `ftspec check`).
	$(BIN)/python -m compileall -q ftspec

# Headless Chromium checks report.html; Debian's package, installed once where apt is available.
browser:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "note: chromium not installed; the report.html browser test will be skipped"; }

DEMO := specs/demo/project.yaml

# The whole pipeline on the bundled demo, on CPU: model -> check -> baseline -> build -> run -> eval. The baseline
# measures zero-shot, few-shot and retrieved few-shot first: every rung misses, so the decision is to fine-tune.
# One torch thread: the demo model's ops are so small that a second thread costs more in synchronisation than it
# computes (the same run took 4 min of CPU on one thread and 8 min on two), and it collapses when the cores are
# shared. A user's own OMP_NUM_THREADS wins.
demo: export OMP_NUM_THREADS ?= 1
demo: install
	$(BIN)/ftspec demo-model specs/demo/models/tiny-llama
	$(BIN)/ftspec check $(DEMO)
	$(BIN)/ftspec baseline $(DEMO)
	$(BIN)/ftspec build $(DEMO)
	$(BIN)/ftspec run $(DEMO)
	$(BIN)/ftspec eval $(DEMO)

test: install browser
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=25

lint: install
	$(BIN)/ruff check ftspec tests benchmarks

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) specs/demo/build specs/demo/runs specs/demo/models specs/demo/baselines
