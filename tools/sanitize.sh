#!/usr/bin/env bash
# Build the C core with AddressSanitizer + UndefinedBehaviorSanitizer in a throwaway copy of
# the tree and run the core and reader tests under it, once per C path.
#
#   tools/sanitize.sh              # full pass (what .ci/run calls): a few minutes on 2 cores
#   tools/sanitize.sh --quick      # scalar + the dispatcher's choice only, fewer inputs
#
# The in-place build (hashcore/_hashcore_c*.so) is never touched: the tree's files (tracked
# and untracked, minus what .gitignore ignores) are copied to $SANITIZE_DIR (default: a new
# folder under /tmp), built there with HASHCORE_SANITIZE=address,undefined, and the tests
# run there with PYTHONPATH pointing at the copy. The Python process gets the ASan runtime
# through LD_PRELOAD (it must come first), leak detection is off (the interpreter keeps its
# objects to the end on purpose), and UBSan stops at the first finding (the extension is
# compiled with -fno-sanitize-recover, and halt_on_error=1 besides), so every finding fails.
#
# Environment: PYTHON (default: .venv/bin/python, else python3), SANITIZE_DIR, KEEP=1 to keep
# the copy, REUSE=1 to reuse the instrumented build already in SANITIZE_DIR, SANITIZE_N
# (random differential inputs per path, default 3000).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-}"
if [[ -z "$PY" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PY="$ROOT/.venv/bin/python"; else PY=python3; fi
fi
QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
N="${SANITIZE_N:-3000}"
[[ $QUICK == 1 ]] && N="${SANITIZE_N:-500}"

CC_BIN="${CC:-gcc}"
LIBASAN="$("$CC_BIN" -print-file-name=libasan.so)"
if [[ ! -e "$LIBASAN" ]]; then
    echo "sanitize: $CC_BIN has no libasan.so (install the compiler's ASan runtime)" >&2
    exit 2
fi

DEST="${SANITIZE_DIR:-$(mktemp -d /tmp/hashcore-sanitize.XXXXXX)}"
cleanup() { [[ "${KEEP:-0}" == 1 ]] || rm -rf "$DEST"; }
trap cleanup EXIT

t0=$(date +%s)
echo "sanitize: copying the tree to $DEST"
mkdir -p "$DEST"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf -) | (cd "$DEST" && tar -xf -)
export HASHCORE_SANITIZE=address,undefined
if [[ "${REUSE:-0}" == 1 ]] && ls "$DEST"/hashcore/_hashcore_c*.so > /dev/null 2>&1; then
    echo "sanitize: REUSE=1, keeping the instrumented extension already in $DEST"
else
    rm -f "$DEST"/hashcore/_hashcore_c*.so
    echo "sanitize: building the extension with -fsanitize=$HASHCORE_SANITIZE"
    (cd "$DEST" && "$PY" hashcore/_ffi_build.py > "$DEST/build.log" 2>&1) \
        || { tail -40 "$DEST/build.log" >&2; exit 1; }
fi
SO=$(ls "$DEST"/hashcore/_hashcore_c*.so 2>/dev/null | head -1)
[[ -n "$SO" ]] || { echo "sanitize: no extension was built" >&2; tail -20 "$DEST/build.log" >&2; exit 1; }

export LD_PRELOAD="$LIBASAN"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
# The copy lives away from the checkout, so point it at the real headers explicitly.
if [[ -z "${HASHCORE_SHARED_DATA:-}" ]]; then
    SHARED=$(cd "$ROOT" && "$PY" -c "from hashcore.paths import find_shared_data as f; print(f() or '')")
    [[ -n "$SHARED" ]] && export HASHCORE_SHARED_DATA="$SHARED"
fi
export PYTHONPATH="$DEST"
export HASHCORE_BACKEND=c
export PYTHONDONTWRITEBYTECODE=1
# Every Python object through malloc, so ASan sees each buffer's own bounds (pymalloc would
# pack small buffers into arenas where an over-read lands in a neighbour unnoticed).
export PYTHONMALLOC=malloc
cd "$DEST"

# The extension must really be the instrumented one, loaded from the copy.
"$PY" - <<'EOF'
import hashcore, hashcore.backends.c as c
from pathlib import Path
import os
so = Path(c.__file__).resolve()
assert str(so).startswith(os.environ["PYTHONPATH"]), f"loaded {so}, not the sanitizer copy"
info = c.build_info() if hasattr(c, "build_info") else {}
san = info.get("sanitize") if isinstance(info, dict) else None
print(f"sanitize: loaded {hashcore.__file__} ({hashcore.implementation}); sanitize={san!r}")
assert san is None or "address" in san, f"extension not instrumented: {info}"
EOF

# The sanitizer must be live: a read 8 bytes past a buffer, made on purpose by calling the C
# function directly with a wrong length, has to be reported (and abort the process).
if "$PY" -c "
from hashcore._hashcore_c import ffi, lib
import numpy as np
lib.hc_init()
buf = np.zeros(100, dtype=np.uint8)
lib.hc_sha256d(ffi.from_buffer(buf), 108, ffi.new('uint8_t[32]'))
" > "$DEST/canary.log" 2>&1; then
    echo "sanitize: the canary over-read was NOT reported; ASan is not active" >&2; exit 1
fi
grep -q "AddressSanitizer: heap-buffer-overflow" "$DEST/canary.log" \
    || { echo "sanitize: canary died without an ASan report:" >&2; tail "$DEST/canary.log" >&2; exit 1; }
echo "sanitize: canary over-read reported by ASan, as it must be"

IMPLS=$("$PY" -c "
import hashcore
print(' '.join(i.name for i in hashcore.available_implementations(include_numba=False)
               if i.backend == 'c' and i.available))")
[[ $QUICK == 1 ]] && IMPLS="scalar"
echo "sanitize: C paths available here: $IMPLS"

# Test modules: the core's, and the readers' and validators' (whatever exists in this tree).
CORE_TESTS=()
READER_TESTS=()
for t in tests/test_core*.py tests/test_c_*.py tests/test_backend*.py; do
    [[ -e "$t" ]] && CORE_TESTS+=("$t")
done
for t in tests/test_header*.py tests/test_io*.py tests/test_reader*.py tests/test_chain*.py \
         tests/test_cli_verify*.py tests/test_properties.py \
         tests/test_tree*.py tests/test_fuzz_regressions.py; do
    [[ -e "$t" ]] && READER_TESTS+=("$t")
done

fail=0
LOG="$DEST/pytest.log"
run_pytest() {  # label, test files...
    local label=$1; shift
    ((${#@})) || return 0
    if "$PY" -m pytest -q -x -p no:cacheprovider -k "not numba" "$@" > "$LOG" 2>&1; then
        echo "$label: $(tail -1 "$LOG")"
    else
        tail -80 "$LOG"; echo "$label: FAILED"; fail=1
    fi
}

# 1. Everything once on the dispatcher's choice (the path users get).
echo "=== core and reader tests, dispatcher's choice"
run_pytest "all tests (auto path)" "${CORE_TESTS[@]}" "${READER_TESTS[@]}"

# 2. Each C path forced: the core tests again, then the edge sweep (lengths 0..300 at 16
#    misalignments, batch sizes around every lane count at 8 misalignments, scans ending at
#    nonce 2**32-1) and random differential inputs, all in buffers that end exactly where the
#    input ends.
for impl in $IMPLS; do
    echo "=== HASHCORE_IMPL=$impl"
    HASHCORE_IMPL=$impl run_pytest "core tests ($impl)" "${CORE_TESTS[@]}"
    HASHCORE_IMPL=$impl "$PY" tools/differential.py --sweep --paths "c:$impl" || fail=1
    HASHCORE_IMPL=$impl "$PY" tools/differential.py -n "$N" --seed "${SANITIZE_SEED:-7}" \
        --paths "c:$impl" || fail=1
done
# 3. Switching between paths at run time, inside one process.
"$PY" tools/differential.py -n "$N" --seed 8 --paths 'c:*' || fail=1

echo "sanitize: $([[ $fail == 0 ]] && echo 0 findings || echo FAILED), paths: $IMPLS, $(( $(date +%s) - t0 )) s"
exit $fail
