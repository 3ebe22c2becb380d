"""Shared fixtures: the real-header folder beside the checkout, skipped with a reason if absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from hashcore.paths import ENV_SHARED_DATA, find_shared_data

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = find_shared_data(REPO_ROOT)
    if path is None:
        pytest.skip(f"real headers not found: put shared/data beside the checkout "
                    f"or set {ENV_SHARED_DATA}")
    return path


@pytest.fixture(scope="session")
def headers_dir(shared_data: Path) -> Path:
    return shared_data / "headers"
