"""A short in-suite run of tools/differential.py, and proof that it catches a wrong path.

CI runs the tool itself on 10^5 inputs; here a few hundred inputs over every available path
keep the suite fast, and broken backends (monkeypatched hashlib paths) must be reported with
a reproducer that replays the same input.
"""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from hashcore import core
from hashcore.backends import reference

TOOL = Path(__file__).resolve().parent.parent / "tools" / "differential.py"


@pytest.fixture(scope="module")
def diff():
    spec = importlib.util.spec_from_file_location("hashcore_differential", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_path_agrees_with_hashlib(diff, capsys) -> None:
    paths = diff.discover_paths(include_numba=True)
    with diff.restore_backend():
        rc = diff.run(400, 20261129, paths, diff.KINDS, None, 400)
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert f"400 inputs, {len(paths)} paths, 0 mismatches" in out.out


def test_edge_sweep_on_c_paths(diff, capsys) -> None:
    paths = [p for p in diff.discover_paths(include_numba=False) if p.startswith("c:")]
    if not paths:
        pytest.skip("the C extension is not built here")
    with diff.restore_backend():
        assert diff.sweep(paths) == 0, capsys.readouterr().err


def test_inputs_replay_from_seed_and_index(diff) -> None:
    real = diff.load_real_headers()
    for i in (0, 1, 17, 999):
        a = diff.draw_case(5, i, real, diff.KINDS)
        b = diff.draw_case(5, i, real, diff.KINDS)
        assert (a.kind, a.data, a.offset, a.container, a.start, a.count, a.target) == (
            b.kind, b.data, b.offset, b.container, b.start, b.count, b.target)


def test_backend_is_restored(diff) -> None:
    before = core.implementation()
    with diff.restore_backend():
        diff.select("hashlib:hashlib")
    assert core.implementation() == before


# --------------------------------------------------------------------------- broken paths

def _run_broken(diff, capsys, kinds: tuple[str, ...], n: int = 300) -> str:
    with diff.restore_backend():
        rc = diff.run(n, 3, ["hashlib:hashlib"], kinds, None, n)
    out = capsys.readouterr()
    assert rc == 1, "a broken path went unnoticed"
    assert "MISMATCH path=hashlib:hashlib" in out.err
    assert "reproduce: python tools/differential.py --seed 3 --index" in out.err
    assert " 0 mismatches" not in out.out
    return out.err


def test_catches_a_wrong_digest_at_one_length(diff, capsys, monkeypatch) -> None:
    good = reference.sha256d
    monkeypatch.setattr(reference, "sha256d",
                        lambda data: good(data)[::-1] if len(data) == 64 else good(data))
    err = _run_broken(diff, capsys, ("sha256d",), n=2000)
    assert '"len": 64' in err


def test_catches_a_wrong_row_in_a_batch(diff, capsys, monkeypatch) -> None:
    good = reference.hash_headers

    def broken(buf: np.ndarray) -> np.ndarray:
        out = good(buf)
        if len(out) == 17:
            out[16, 0] ^= 1  # the last row of a 16+1 batch: a lane-tail bug
        return out

    monkeypatch.setattr(reference, "hash_headers", broken)
    assert "hash_headers row 16 of 17" in _run_broken(diff, capsys, ("batch",), n=600)


def test_catches_a_missed_nonce(diff, capsys, monkeypatch) -> None:
    good = reference.scan_range

    def broken(header76, target_le, start, count):
        hits = good(header76, target_le, start, count)
        return hits[1:]  # drops the first hit of every range, as an off-by-one would

    monkeypatch.setattr(reference, "scan_range", broken)
    err = _run_broken(diff, capsys, ("scan", "planted"))
    assert "missed" in err


def test_catches_a_nonce_above_the_target(diff, capsys, monkeypatch) -> None:
    good = reference.scan_range

    def broken(header76, target_le, start, count):
        hits = good(header76, target_le, start, count)
        extra = start + count - 1
        if count and all(n != extra for n, _ in hits):
            d = reference.sha256d(header76 + struct.pack("<I", extra))
            if int.from_bytes(d, "little") > int.from_bytes(target_le, "little"):
                hits.append((extra, d))  # a candidate that failed the full compare
        return hits

    monkeypatch.setattr(reference, "scan_range", broken)
    assert "above the target" in _run_broken(diff, capsys, ("scan",))
