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

# "<harness>/<file>": (exception type name, what is wrong, reported to whom)
OPEN: dict[str, tuple[str, str]] = {
    "scenario/load-non-utf8-file.bin": (
        "UnicodeDecodeError", "scenario.load reads the file as UTF-8 and lets "
        "UnicodeDecodeError escape instead of a ScenarioError naming the byte"),
    "scenario/loads-deeply-nested-array.bin": (
        "RecursionError", "tomllib recurses on deeply nested arrays; scenario.loads catches "
        "only TOMLDecodeError"),
    "scenario/override-deeply-nested-array.bin": (
        "RecursionError", "parse_overrides parses the override value with tomllib and lets "
        "RecursionError escape"),
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
            if name == "scenario" and data[:1] and data[0] % 3 == 0 and not _utf8(data[1:]):
                marks.append(pytest.mark.xfail(raises=UnicodeDecodeError, strict=False,
                                               reason="open finding: "
                                               + OPEN["scenario/load-non-utf8-file.bin"][1]))
            out.append(pytest.param(name, data, id=f"{name}-{i}", marks=marks))
    return out


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize(("name", "data"), _edge_cases())
def test_edge_inputs(name: str, data: bytes) -> None:
    _harness(name).one_input(data)
