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

# "<harness>/<file>": (exception type name, what is wrong). Fixed findings leave this list and
# stay as regression inputs: scenario/load-non-utf8-file.bin (UnicodeDecodeError from
# scenario.load), scenario/*-deeply-nested-array.bin (RecursionError from tomllib), found by
# fuzz/fuzz_scenario.py and fixed in hashcore/scenario.py by its owner.
_JSON_OWNER = "hashcore/io.py parse_json/header_from_rpc"
OPEN: dict[str, tuple[str, str]] = {
    "json/non-utf8.bin": (
        "UnicodeDecodeError", f"{_JSON_OWNER}: json.loads(bytes) raises UnicodeDecodeError for "
        "bytes that are not UTF-8/16/32; only JSONDecodeError is caught"),
    "json/deeply-nested-array.bin": (
        "RecursionError", f"{_JSON_OWNER}: json.loads recurses on 3000 nested arrays; "
        "RecursionError escapes"),
    "json/deeply-nested-object.bin": (
        "RecursionError", f"{_JSON_OWNER}: the same with nested objects"),
    "raw/auto-detects-deeply-nested-json.bin": (
        "RecursionError", "hashcore/io.py: format auto-detection sends '[[[...' to the JSON "
        "reader, which lets RecursionError escape"),
    "raw/auto-detects-json-utf32.bin": (
        "UnicodeDecodeError", "hashcore/io.py: a file starting '[\\x00\\x00\\x00' is "
        "auto-detected as JSON, json.loads(bytes) guesses UTF-32 and raises "
        "UnicodeDecodeError"),
    "json/version-infinity.bin": (
        "OverflowError", f"{_JSON_OWNER}: \"version\": 1e400 parses as float inf and "
        "int(inf) raises OverflowError (the except lists TypeError, ValueError only)"),
    "json/height-not-a-number.bin": (
        "ValueError", f"{_JSON_OWNER}: int(obj['height']) runs outside the try, so "
        "\"height\": \"x\" raises a bare ValueError, not ReadError"),
}


def _harness(name: str):
    if str(FUZZ) not in sys.path:
        sys.path.insert(0, str(FUZZ))
    try:
        return importlib.import_module(f"fuzz_{name}")
    except ImportError as exc:  # a reader module that has not landed yet
        pytest.skip(f"harness fuzz_{name} cannot be imported: {exc}")


def _cases():
    out = []
    for path in sorted(REGRESSIONS.glob("*/*")):
        key = f"{path.parent.name}/{path.name}"
        marks = []
        if key in OPEN:
            exc_name, why = OPEN[key]
            marks.append(pytest.mark.xfail(raises=getattr(builtins, exc_name),
                                           reason=f"open finding: {why}", strict=False))
        out.append(pytest.param(path, id=key, marks=marks))
    return out


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
    out = []
    for name in HARNESSES:
        for i, data in enumerate(EDGE_INPUTS):
            marks = []
            for key in OPEN:
                harness, _, file = key.partition("/")
                if harness == name and (REGRESSIONS / key).read_bytes() in (data, data[:1]):
                    exc_name, why = OPEN[key]
                    marks.append(pytest.mark.xfail(raises=getattr(builtins, exc_name),
                                                   reason=f"open finding: {why}", strict=False))
            out.append(pytest.param(name, data, id=f"{name}-{i}", marks=marks))
    return out


@pytest.mark.parametrize(("name", "data"), _edge_cases())
def test_edge_inputs(name: str, data: bytes) -> None:
    _harness(name).one_input(data)
