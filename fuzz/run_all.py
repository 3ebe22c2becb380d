#!/usr/bin/env python3
"""Run every atheris harness in fuzz/ for a bounded time, from a seed corpus built now.

The seed corpus comes from the real headers in shared/data (each harness's ``seeds()``), is
written to a temporary folder and is never stored in the repository. Each harness gets an
equal share of ``--seconds-total`` (less its start-up), a per-input timeout and an RSS limit;
any crash, hang or memory blow-up fails the run and leaves the input under ``--artifacts``
with the command that replays it.

    python fuzz/run_all.py --seconds-total 60
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STARTUP_S = 2.5  # first guess at start-up + seed load per harness; then the measured mean
_DONE = re.compile(r"Done (\d+) runs in (\d+) second")
_STAT = re.compile(r"#(\d+)\s+(?:DONE|pulse|NEW|REDUCE|INITED)\s+cov: (\d+) ft: (\d+) corp: (\d+)")


def harnesses() -> list[str]:
    return sorted(p.stem for p in HERE.glob("fuzz_*.py"))


def build_corpus(name: str, into: Path, dict_path: Path) -> tuple[int, Path | None]:
    """Write the harness's seeds into a corpus folder (regressions live in tests), and its
    token dictionary (``dictionary()``, if it has one) in libFuzzer's -dict format."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    module = importlib.import_module(name)
    into.mkdir(parents=True, exist_ok=True)
    count = 0
    for i, seed in enumerate(module.seeds()):
        (into / f"seed-{i:04d}").write_bytes(seed)
        count += 1
    tokens = module.dictionary() if hasattr(module, "dictionary") else []
    if not tokens:
        return count, None
    lines = ['"' + "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\x{b:02x}"
                           for b in tok) + '"' for tok in tokens]
    dict_path.write_text("\n".join(lines) + "\n")
    return count, dict_path


def backend_env() -> dict[str, str]:
    """Use the C backend where it is built; otherwise hashlib (numba's JIT start-up would eat
    a harness's whole time slice)."""
    env = dict(os.environ)
    if "HASHCORE_BACKEND" not in env:
        probe = subprocess.run([sys.executable, "-c", "import hashcore.backends.c"],
                               cwd=ROOT, capture_output=True)
        if probe.returncode != 0:
            env["HASHCORE_BACKEND"] = "hashlib"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_one(name: str, corpus: Path, seconds: int, artifacts: Path, timeout_s: int,
            rss_mb: int, env: dict[str, str], max_len: int, dict_path: Path | None) -> dict:
    artifacts.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(HERE / f"{name}.py"), str(corpus),
           f"-max_total_time={seconds}", f"-timeout={timeout_s}", f"-rss_limit_mb={rss_mb}",
           f"-malloc_limit_mb={rss_mb}", f"-max_len={max_len}",
           f"-artifact_prefix={artifacts}/{name}-", "-print_final_stats=1"]
    if dict_path is not None:
        cmd.append(f"-dict={dict_path}")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=HERE, env=env, capture_output=True, text=True,
                          timeout=seconds + 120)
    wall = time.perf_counter() - t0
    log = proc.stdout + proc.stderr
    done = _DONE.search(log)
    stats = _STAT.findall(log)
    execs = int(done.group(1)) if done else (int(stats[-1][0]) if stats else 0)
    found = sorted(str(p) for p in artifacts.glob(f"{name}-*"))
    return {"name": name, "rc": proc.returncode, "execs": execs, "wall_s": wall,
            "cov": int(stats[-1][1]) if stats else 0,
            "corpus": int(stats[-1][3]) if stats else 0, "artifacts": found, "log": log}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="bounded fuzzing of every reader")
    p.add_argument("--seconds-total", type=float, default=60.0,
                   help="wall-clock budget for all harnesses together")
    p.add_argument("--only", nargs="*", default=None, help="harness names (fuzz_raw ...)")
    p.add_argument("--timeout", type=int, default=10, help="per-input timeout, seconds")
    p.add_argument("--rss-limit-mb", type=int, default=1536)
    p.add_argument("--max-len", type=int, default=16384, help="largest input, bytes")
    p.add_argument("--artifacts", type=Path, default=None,
                   help="where crashing inputs go (default: a temporary folder, kept on failure)")
    p.add_argument("--corpus", type=Path, default=None,
                   help="keep the corpora here between runs (default: a temporary folder)")
    p.add_argument("-v", "--verbose", action="store_true", help="print each harness's log")
    args = p.parse_args(argv)

    names = harnesses()
    if args.only:
        unknown = [n for n in args.only if n not in names]
        if unknown:
            p.error(f"unknown harness {unknown} (have {names})")
        names = [n for n in names if n in args.only]
    work = Path(tempfile.mkdtemp(prefix="hashcore-fuzz-"))
    corpus_root = args.corpus or work / "corpus"
    artifacts = args.artifacts or work / "artifacts"
    env = backend_env()
    scratch = work / "scratch"
    scratch.mkdir()
    env["HASHCORE_FUZZ_TMP"] = str(scratch)
    os.environ["HASHCORE_FUZZ_TMP"] = str(scratch)  # for the seeds built in this process
    t_start = time.perf_counter()
    results = []
    overheads: list[float] = []
    for i, name in enumerate(names):
        left = args.seconds_total - (time.perf_counter() - t_start)
        overhead = sum(overheads) / len(overheads) if overheads else STARTUP_S
        share = left / (len(names) - i) - overhead
        seconds = max(1, int(share))
        corpus = corpus_root / name
        seeds, dict_path = build_corpus(name, corpus, work / f"{name}.dict")
        r = run_one(name, corpus, seconds, artifacts, args.timeout, args.rss_limit_mb, env,
                    args.max_len, dict_path)
        r["seeds"] = seeds
        results.append(r)
        if r["rc"] == 0:
            overheads.append(max(0.0, r["wall_s"] - seconds))
        status = "ok" if r["rc"] == 0 and not r["artifacts"] else "FAIL"
        print(f"{name:<18} {status:<4} {r['execs']:>9} execs  {r['wall_s']:5.1f} s  "
              f"seeds {seeds:>3}  corpus {r['corpus']:>4}  cov {r['cov']}", flush=True)
        if args.verbose or status == "FAIL":
            tail = "\n".join(r["log"].splitlines()[-40:])
            print(tail, file=sys.stderr)
            for a in r["artifacts"]:
                print(f"  finding: {a}\n  replay:  python fuzz/{name}.py {a}", file=sys.stderr)
    total_execs = sum(r["execs"] for r in results)
    failed = [r["name"] for r in results if r["rc"] != 0 or r["artifacts"]]
    wall = time.perf_counter() - t_start
    print(f"{len(results)} harnesses, {total_execs} executions, {len(failed)} failing "
          f"({', '.join(failed) or 'none'}), {wall:.0f} s")
    shutil.rmtree(scratch, ignore_errors=True)
    if failed:
        print(f"artifacts kept in {artifacts}", file=sys.stderr)
    elif args.artifacts is None and args.corpus is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
