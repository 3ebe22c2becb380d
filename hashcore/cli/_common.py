"""Helpers shared by the subcommands."""

from __future__ import annotations

import os
from pathlib import Path

from hashcore.errors import InputError


def check_output_path(option: str, path: str | None) -> None:
    """Refuse an output file we could not write, before any work is done ('-' is stdout)."""
    if path is None or path == "-":
        return
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{option} {path}: is a folder, not a file")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{option} {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise InputError(f"{option} {path}: not writable")
