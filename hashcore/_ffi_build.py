"""cffi out-of-line API-mode builder for ``hashcore._hashcore_c``.

The cdef is the CDEF-BEGIN..CDEF-END section of ``csrc/hashcore.h`` (the one header cffi
sees); the sources are every ``csrc/*.c``. Flags are ``-O3`` plus portable ones only: each
instruction-set file carries its own ``#pragma GCC target``, so the same build runs on any
x86-64 (no ``-march=native``, no global ``-mavx*``).

``HASHCORE_SANITIZE=address,undefined`` (any -fsanitize list) builds an instrumented
extension for the sanitizer test runs; the list is compiled in and shown by ``build_info()``.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
HEADER = CSRC / "hashcore.h"
MODULE = "hashcore._hashcore_c"


def read_cdef(header: Path = HEADER) -> str:
    """The declarations between the CDEF markers, with any preprocessor line dropped."""
    text = header.read_text()
    match = re.search(r"/\* CDEF-BEGIN \*/(.*?)/\* CDEF-END \*/", text, re.S)
    if not match:
        raise RuntimeError(f"{header}: no CDEF-BEGIN/CDEF-END section")
    return "\n".join(line for line in match.group(1).splitlines()
                     if not line.lstrip().startswith("#"))


def package_version() -> str:
    text = (ROOT / "hashcore" / "_version.py").read_text()
    match = re.search(r"__version__\s*=\s*['\"]([^'\"]+)['\"]", text)
    if not match:
        raise RuntimeError("hashcore/_version.py has no __version__")
    return match.group(1)


def sanitize_list() -> str:
    value = os.environ.get("HASHCORE_SANITIZE", "").strip()
    if value and not re.fullmatch(r"[a-z,]+", value):
        raise RuntimeError(f"HASHCORE_SANITIZE={value!r}: expected a list like address,undefined")
    return value


def compile_flags() -> tuple[list[str], list[str]]:
    """(compile args, link args) for this build."""
    args = ["-O3", "-std=c11", "-fno-strict-aliasing", "-Wall"]
    link: list[str] = []
    san = sanitize_list()
    if san:
        extra = [f"-fsanitize={san}", "-fno-omit-frame-pointer", "-g"]
        if "undefined" in san:
            extra.append("-fno-sanitize-recover=undefined")
        args += extra
        link += [f"-fsanitize={san}"]
    return args, link


def make_builder() -> FFI:
    ffi = FFI()
    ffi.cdef(read_cdef())
    args, link = compile_flags()
    defines = [
        f'-DHC_PKG_VERSION="{package_version()}"',
        f'-DHC_BUILD_FLAGS="{" ".join(args)}"',
        f'-DHC_SANITIZE="{sanitize_list()}"',
    ]
    # setuptools wants source paths relative to the directory the build runs from
    sources = sorted(os.path.relpath(p) for p in CSRC.glob("*.c"))
    ffi.set_source(
        MODULE,
        '#include "hashcore.h"\n',
        sources=sources,
        include_dirs=[os.path.relpath(CSRC)],
        depends=sorted(os.path.relpath(p) for p in CSRC.glob("*.h")),  # rebuild on edits
        extra_compile_args=args + defines,
        extra_link_args=link,
    )
    return ffi


ffibuilder = make_builder()  # setup.py's cffi_modules names this

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
    sys.exit(0)
