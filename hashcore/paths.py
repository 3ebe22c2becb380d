"""Where the shared real-header data lives, for tests, examples and the report."""

from __future__ import annotations

import os
from pathlib import Path

ENV_SHARED_DATA = "HASHCORE_SHARED_DATA"


def find_shared_data(start: Path | None = None) -> Path | None:
    """``$HASHCORE_SHARED_DATA``, else ``../shared/data`` beside the checkout or the cwd."""
    env = os.environ.get(ENV_SHARED_DATA)
    if env:
        path = Path(env)
        return path if path.is_dir() else None
    candidates = []
    for base in (start, Path(__file__).resolve().parent.parent, Path.cwd()):
        if base is not None:
            candidates.append(Path(base).resolve().parent / "shared" / "data")
    for path in candidates:
        if (path / "headers").is_dir():
            return path
    return None
