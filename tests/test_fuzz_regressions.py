"""Inputs the fuzzers found (fuzz/regressions/<harness>/*) replayed through their harness.

A harness lets only the project's documented errors pass; any other exception is the bug the
input was saved for. Findings that are reported but not yet fixed by their owner are listed
in ``OPEN`` with the exception they still raise: they run as expected failures of exactly that
type, and show up as XPASS once fixed (then delete the entry).
"""

from __future__ import annotations

import builtins
import importlib
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
REGRESSIONS = FUZZ / "regressions"

# "<harness>/<file>": (exception type name, what is wrong), for a finding reported to its owner
# and not yet fixed; OPEN_ALSO maps "edge:<id>" / "cli:<id>" test ids that hit the same bug to
# its key. Both are empty now: every finding so far was fixed by its owner and stays here as a
# regression input (docs/reliability.md lists them):
#   scenario/load-non-utf8-file.bin            UnicodeDecodeError from scenario.load
#   scenario/loads-deeply-nested-array.bin     RecursionError from tomllib via scenario.loads
#   scenario/override-deeply-nested-array.bin  RecursionError from tomllib via an override
#   json/non-utf8.bin                          UnicodeDecodeError from json.loads(bytes)
#   json/deeply-nested-array.bin, json/deeply-nested-object.bin   RecursionError from json
#   json/version-infinity.bin                  OverflowError: int(float("inf"))
#   json/height-not-a-number.bin               bare ValueError from int("x") outside the try
#   raw/auto-detects-deeply-nested-json.bin    RecursionError through format auto-detection
#   raw/auto-detects-json-utf32.bin            UnicodeDecodeError: '[\x00\x00\x00' taken as UTF-32
OPEN: dict[str, tuple[str, str]] = {}
OPEN_ALSO: dict[str, str] = {}


def _open_marks(key: str | None) -> list:
    """The expected-failure mark for an open finding (none once it is fixed and removed)."""
    if key is None or key not in OPEN:
        return []
    exc_name, why = OPEN[key]
    return [pytest.mark.xfail(raises=getattr(builtins, exc_name), reason=f"open finding: {why}",
                              strict=False)]


def _harness(name: str):
    if str(FUZZ) not in sys.path:
        sys.path.insert(0, str(FUZZ))
    return importlib.import_module(f"fuzz_{name}")


def _cases():
    return [pytest.param(path, id=f"{path.parent.name}/{path.name}",
                         marks=_open_marks(f"{path.parent.name}/{path.name}"))
            for path in sorted(REGRESSIONS.glob("*/*"))]


@pytest.mark.parametrize("path", _cases())
def test_regression_input(path: Path) -> None:
    harness = _harness(path.parent.name)
    harness.one_input(path.read_bytes())


HARNESSES = sorted(p.stem[len("fuzz_"):] for p in FUZZ.glob("fuzz_*.py"))


@pytest.mark.parametrize("name", HARNESSES)
def test_seed_corpus_replays_cleanly(name: str, shared_data) -> None:
    """Every seed (real headers in each format) goes through its harness without a finding."""
    harness = _harness(name)
    seeds = harness.seeds()
    assert seeds, f"harness {name} built no seeds"
    for seed in seeds[:300]:
        harness.one_input(seed)


EDGE_INPUTS = [b"", b"\x00", b"\xff" * 79, b"\x00" * 80, b"\xff" * 81, b"\x00" * 4096,
               bytes(range(256)), b"\n" * 100, b"{" * 3000, b"[" * 3000]


def _edge_cases():
    return [pytest.param(name, data, id=f"{name}-{i}",
                         marks=_open_marks(OPEN_ALSO.get(f"edge:{name}-{i}")))
            for name in HARNESSES for i, data in enumerate(EDGE_INPUTS)]


@pytest.mark.parametrize(("name", "data"), _edge_cases())
def test_edge_inputs(name: str, data: bytes) -> None:
    _harness(name).one_input(data)


# --------------------------------------------------------------------------- the CLI end to end

# harness -> (file name, --format): raw findings are about auto-detection, electrum is named.
_CLI_FILES = {"raw": ("headers.bin", "auto"), "hex": ("headers.hex", "hex"),
              "json": ("headers.json", "json"), "electrum": ("blockchain_headers", "auto")}


def _cli_cases():
    out = []
    for harness, (filename, fmt) in _CLI_FILES.items():
        inputs = [(f"{harness}/{p.name}", p.read_bytes())
                  for p in sorted((REGRESSIONS / harness).glob("*"))]
        inputs += [(f"{harness}/edge-{i}", d) for i, d in enumerate(EDGE_INPUTS)]
        for key, data in inputs:
            marks = _open_marks(key) or _open_marks(OPEN_ALSO.get(f"cli:{key}"))
            out.append(pytest.param(filename, fmt, data, id=key, marks=marks))
    return out


@pytest.mark.parametrize(("filename", "fmt", "data"), _cli_cases())
def test_cli_verify_exits_cleanly(tmp_path, capsys, filename: str, fmt: str, data: bytes) -> None:
    """`hashcore verify` on hostile files: exit 0, 1 or 2 with one line, never a traceback."""
    from hashcore.cli import main

    path = tmp_path / filename
    path.write_bytes(data)
    code = main(["verify", str(path), "--format", fmt, "--now", "2000000000"])
    err = capsys.readouterr().err
    assert code in (0, 1, 2), code
    assert "Traceback" not in err
    if code == 2:
        assert err.strip().count("\n") == 0 and str(path) in err, err
