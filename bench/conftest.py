"""Shared setup of the pytest-benchmark suites in bench/ (not part of the test command).

``path`` parameters run over every hashing path hashcore knows; a path that cannot run here
is skipped with its reason (so the report says why it is missing, instead of timing nothing).
Machine info gains hashcore's own block (CPU flags, versions, the C compiler).
"""

from __future__ import annotations

import pytest

from hashcore import core, machine
from hashcore.bench import list_paths


def _paths():
    return list_paths()


def pytest_generate_tests(metafunc):
    if "path" in metafunc.fixturenames:
        params = [pytest.param(p, id=p.name,
                               marks=() if p.available else pytest.mark.skip(
                                   reason=f"{p.name} unavailable: {p.why}"))
                  for p in _paths()]
        metafunc.parametrize("path", params)


@pytest.fixture
def use_path(path):
    """Switch the core to ``path`` for one benchmark, and back afterwards."""
    before = core.backend().NAME
    name = core.use(path.backend, path.impl)
    yield name
    core.use(before)


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["hashcore"] = machine.machine_info()["hashcore"]


def pytest_benchmark_update_commit_info(config, commit_info):
    if commit_info.get("id") in (None, "unknown", "unversioned"):
        commit_info.update(machine.commit_info())
