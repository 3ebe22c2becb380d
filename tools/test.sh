#!/usr/bin/env bash
# The project's test command: install into .venv, then run every check that CI runs.
# Usage: bash tools/test.sh            (everything, as CI does)
#        HASHCORE_QUICK=1 bash tools/test.sh   (install + the test suite once, default backend)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

step() { printf '\n=== %s\n' "$*"; }

step "install (.venv, editable, with the test/cluster/fleet/fuzz extras)"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel
.venv/bin/python -m pip install -q -e '.[test,cluster,fleet,fuzz]'
export PATH="$PWD/.venv/bin:$PATH"

step "the C extension really loaded (a missing compiler would silently fall back)"
python - <<'PY'
import hashcore
impl = hashcore.implementation
print("hashcore", hashcore.__version__, "runs", impl)
assert impl.startswith("c:"), f"C backend did not load: {impl}"
PY
hashcore info

step "ruff"
ruff check .

if [ -z "${HASHCORE_QUICK:-}" ]; then
  step "core tests once per C path (HASHCORE_IMPL)"
  for impl in $(python -c "import hashcore; print(' '.join(i.name for i in hashcore.available_implementations(include_numba=False) if i.backend == 'c' and i.available))"); do
    echo "--- HASHCORE_IMPL=$impl"
    HASHCORE_IMPL=$impl python -m pytest -q -x tests/test_core.py -p no:cacheprovider | tail -n 1
  done

  step "whole suite on the numba backend"
  HASHCORE_BACKEND=numba python -m pytest -q -x -p no:cacheprovider | tail -n 3

  step "whole suite on the hashlib backend"
  HASHCORE_BACKEND=hashlib python -m pytest -q -x -p no:cacheprovider | tail -n 3

  step "sanitizers (ASan + UBSan) over the C core"
  bash tools/sanitize.sh

  step "differential: 100,000 random inputs, every path against hashlib"
  python tools/differential.py -n 100000 --seed "${HASHCORE_DIFF_SEED:-1}"

  step "bounded fuzz pass over the readers and the scenario loader"
  python fuzz/run_all.py --seconds-total 60

  step "smoke bench (1 s)"
  hashcore bench --seconds 1 --threads 1 --json /tmp/hashcore-smoke-bench.json
fi

step "test suite (default backend: the C core, best path)"
python -m pytest -p no:cacheprovider
