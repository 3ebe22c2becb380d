"""What a benchmark figure was measured on: CPU, cores, software versions, commit, time.

Recorded beside every figure so that numbers from two machines or two commits are never
compared blind. The layout follows pytest-benchmark's ``machine_info`` and ``commit_info``
so that its ``compare`` command reads our files; our extra fields sit under ``hashcore``.
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from hashcore._version import __version__

# Flags that decide which hashing path can run; shown in tables (the full list goes to JSON).
HASH_FLAGS = ("sha_ni", "avx2", "avx512f", "avx512vl", "ssse3", "sse4_1", "sha1", "sha2",
              "asimd")


def _cpuinfo(path: str = "/proc/cpuinfo") -> dict[str, str]:
    """The first processor block of /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    if fields:
                        break
                    continue
                key, _, value = line.partition(":")
                fields.setdefault(key.strip().lower(), value.strip())
    except OSError:
        pass
    return fields


def cpu_model() -> str:
    info = _cpuinfo()
    return (info.get("model name") or info.get("hardware") or info.get("cpu model")
            or platform.processor() or platform.machine() or "unknown")


def cpu_flags() -> list[str]:
    info = _cpuinfo()
    return sorted(set((info.get("flags") or info.get("features") or "").split()))


def usable_cores() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def c_build_info() -> dict | None:
    """The C extension's compiler and flags, if the C backend is built and says so."""
    try:
        from hashcore.backends import c as c_backend  # noqa: PLC0415 (optional, slow-ish)
    except Exception:  # not built, or failed to load: that is recorded elsewhere
        return None
    info = getattr(c_backend, "build_info", None)
    if info is None:
        return None
    try:
        result = info()
    except Exception as exc:  # a broken build_info must not stop a benchmark
        return {"error": str(exc)}
    return dict(result) if isinstance(result, dict) else {"info": str(result)}


def machine_info() -> dict:
    """pytest-benchmark's machine_info keys, plus a ``hashcore`` block of our own."""
    flags = cpu_flags()
    model = cpu_model()
    return {
        "node": platform.node(),
        "processor": platform.processor(),
        "machine": platform.machine(),
        "python_compiler": platform.python_compiler(),
        "python_implementation": platform.python_implementation(),
        "python_implementation_version": platform.python_version(),
        "python_version": platform.python_version(),
        "python_build": list(platform.python_build()),
        "release": platform.release(),
        "system": platform.system(),
        "cpu": {
            "brand_raw": model,
            "arch": platform.machine(),
            "count": os.cpu_count() or 1,
            "flags": flags,
        },
        "hashcore": {
            "version": __version__,
            "cpu_model": model,
            "cores_total": os.cpu_count() or 1,
            "cores_usable": usable_cores(),
            "hash_flags": [f for f in HASH_FLAGS if f in flags],
            "python": platform.python_version(),
            "numpy": package_version("numpy"),
            "numba": package_version("numba"),
            "cffi": package_version("cffi"),
            "c_build": c_build_info(),
        },
    }


def _git(args: list[str], cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=10, check=True).stdout.strip()


def commit_info(start: Path | None = None) -> dict:
    """The checkout hashcore runs from (id ``unversioned`` when not run from one)."""
    here = (start or Path(__file__)).resolve()
    root = next((p for p in [here, *here.parents] if (p / ".git").exists()), None)
    info = {"id": "unversioned", "time": None, "author_time": None, "dirty": False,
            "project": "hashcore", "branch": "(unknown)"}
    if root is None:
        return info
    try:
        info["id"] = _git(["rev-parse", "HEAD"], root)
        info["time"] = _git(["show", "-s", "--pretty=format:%cI"], root) or None
        info["author_time"] = _git(["show", "-s", "--pretty=format:%aI"], root) or None
        info["dirty"] = bool(_git(["status", "--porcelain", "--untracked-files=no"], root))
        branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], root)
        info["branch"] = "(detached head)" if branch == "HEAD" else branch
    except (OSError, subprocess.SubprocessError):
        info["id"] = "unknown"
    return info


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat()
