"""`hashcore info | hash | scan`: the hashing core from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import metadata

from hashcore.errors import InputError


def _parse_int(text: str, what: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise InputError(f"{what} '{text}' is not an integer (decimal or 0x hex)") from None


def _parse_hex(text: str, what: str) -> bytes:
    cleaned = text.strip()
    if cleaned.startswith(("0x", "0X")):
        cleaned = cleaned[2:]
    if len(cleaned) % 2:
        raise InputError(f"{what} has an odd number of hex digits ({len(cleaned)})")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        bad = next((i for i, c in enumerate(cleaned) if c not in "0123456789abcdefABCDEF"), 0)
        raise InputError(f"{what} is not hex: character {bad + 1} is {cleaned[bad]!r}") from None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def info_dict() -> dict:
    import hashcore
    from hashcore import core

    impl = hashcore.implementation
    paths = [
        {"name": i.name, "backend": i.backend, "available": i.available,
         "selftest": i.selftest, "lanes": i.lanes}
        for i in core.available_implementations()
    ]
    c_backend = None
    try:
        from hashcore.backends import c as c_backend
    except ImportError:
        pass
    features = getattr(c_backend, "cpu_features", lambda: None)() if c_backend else None
    build = getattr(c_backend, "build_info", lambda: None)() if c_backend else None
    return {
        "version": hashcore.__version__,
        "implementation": impl,
        "backend": impl.split(":", 1)[0],
        "c_extension": "loaded" if c_backend else f"not loaded: {core.backend_error('c')}",
        "c_build": build,
        "cpu_features": features,
        "paths": paths,
        "versions": {name: _version(name) for name in ("numpy", "cffi", "numba")},
    }


def cmd_info(args: argparse.Namespace) -> int:
    data = info_dict()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"hashcore {data['version']}: [bold]{data['implementation']}[/bold] "
                  f"(C extension {data['c_extension']})")
    if data["cpu_features"] is not None:
        console.print(f"CPU features: {data['cpu_features']}")
    table = Table("path", "backend", "lanes", "available", "self-test")
    for p in data["paths"]:
        table.add_row(p["name"], p["backend"], str(p["lanes"] or "-"),
                      "yes" if p["available"] else "no", p["selftest"])
    console.print(table)
    versions = ", ".join(f"{k} {v or 'not installed'}" for k, v in data["versions"].items())
    console.print(versions)
    return 0


def cmd_hash(args: argparse.Namespace) -> int:
    import hashcore

    items = args.hex or sys.stdin.read().split()
    if not items:
        raise InputError("no input: give hex arguments or hex on stdin")
    for i, text in enumerate(items, 1):
        data = _parse_hex(text, f"input {i}")
        print(hashcore.sha256d(data)[::-1].hex())
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    import hashcore

    header = _parse_hex(args.header, "header")
    if len(header) not in (76, 80):
        raise InputError(f"header is {len(header)} bytes; scan needs 76 or 80")
    if (args.bits is None) == (args.target is None):
        if args.bits is None and len(header) == 80:
            bits = int.from_bytes(header[72:76], "little")
        else:
            raise InputError("give exactly one of --bits or --target")
    else:
        bits = _parse_int(args.bits, "--bits") if args.bits is not None else None
    target = _parse_int(args.target, "--target") if args.target is not None else None
    start = _parse_int(args.start, "--start")
    count = _parse_int(args.count, "--count") if args.count is not None else None
    if count is None and 0 <= start < 2**32:
        count = 2**32 - start
    kwargs = dict(target=target) if target is not None else dict(bits=bits)
    show_progress = (not args.json and sys.stderr.isatty() and count is not None
                     and count >= 1 << 26)
    if show_progress:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("scanning", total=count)
            result = hashcore.scan(header, nonce_start=start, count=count,
                                   threads=args.threads,
                                   progress=lambda done: bar.update(task, completed=done),
                                   **kwargs)
    else:
        result = hashcore.scan(header, nonce_start=start, count=count, threads=args.threads,
                               **kwargs)
    if args.json:
        print(json.dumps({
            "implementation": result.implementation, "threads": result.threads,
            "nonce_start": result.nonce_start, "count": result.count,
            "target": f"{result.target:064x}", "hashes": result.hashes,
            "seconds": result.seconds, "rate_hs": result.rate_hs,
            "found": [{"nonce": f.nonce, "hash": f.hash_hex} for f in result.nonces],
        }, indent=2))
        return 0
    for f in result.nonces:
        print(f"nonce {f.nonce} (0x{f.nonce:08x})  hash {f.hash_hex}")
    print(f"{result.hashes:,} nonces in {result.seconds:.3f} s = "
          f"{result.rate_hs / 1e6:.2f} M nonces/s on {result.implementation}, "
          f"{result.threads} thread(s); {len(result.nonces)} found", file=sys.stderr)
    return 0


def register(sub) -> None:
    p = sub.add_parser("info", help="backend, chosen path, every path and its self-test")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("hash", help="sha256d of hex inputs (arguments or stdin), display order")
    p.add_argument("hex", nargs="*", help="hex bytes, e.g. an 80-byte header")
    p.set_defaults(func=cmd_hash)

    p = sub.add_parser("scan", help="scan nonces of one header for hashes under a target")
    p.add_argument("header", help="76- or 80-byte header in hex")
    p.add_argument("--bits", help="compact target, e.g. 0x1d00ffff (default: the header's)")
    p.add_argument("--target", help="full target as an integer (0x hex allowed)")
    p.add_argument("--start", default="0", help="first nonce (default 0)")
    p.add_argument("--count", help="nonces to try (default: to the end of the 32-bit space)")
    p.add_argument("--threads", type=int, default=None, help="worker threads (default: cores)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_scan)
