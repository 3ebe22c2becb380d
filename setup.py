"""Only cffi_modules, plus an optional build: without a C compiler the install still works.

cffi's setuptools hook turns ``cffi_modules`` into an extension; the build_ext below catches
a failed compile (no compiler, missing headers) and says so, so ``pip install .`` succeeds
and hashcore runs on the Numba backend instead.
"""

import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

NOTICE = """
************************************************************************
hashcore: the C extension was NOT built ({why}).
hashcore will run on the Numba backend (slower). To get the C path, install a C
compiler and run `pip install --force-reinstall --no-deps .` again.
************************************************************************
"""


class OptionalBuildExt(build_ext):
    """build_ext that reports a failed compile instead of failing the install."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # distutils raises several types (CCompilerError, ...)
            self._skip(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._skip(exc)

    def _skip(self, exc):
        why = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:200]
        sys.stderr.write(NOTICE.format(why=why))


setup(cffi_modules=["hashcore/_ffi_build.py:ffibuilder"], cmdclass={"build_ext": OptionalBuildExt})
