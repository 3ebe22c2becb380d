"""The project's documented error types.

Every user error (bad file, bad hex, bad argument, bad scenario field) is a ``HashcoreError``:
the CLI prints its message as one line and exits 2. Anything else escaping is a bug.
"""

from __future__ import annotations


class HashcoreError(Exception):
    """A user-facing error whose message is one complete line."""


class InputError(HashcoreError, ValueError):
    """An argument or value that cannot be used (wrong length, not hex, out of range)."""


class ReadError(InputError):
    """A file or stream that cannot be read as the format asked for.

    The message names the source and the byte offset or line where reading failed.
    """

    def __init__(self, source: str, where: str, what: str):
        self.source = source
        self.where = where
        self.what = what
        super().__init__(f"{source}: {where}: {what}")


class ScenarioError(InputError):
    """A scenario field that is missing, of the wrong type or out of range."""

    def __init__(self, field: str, what: str):
        self.field = field
        self.what = what
        super().__init__(f"scenario field '{field}': {what}")


class BackendUnavailable(HashcoreError):
    """A backend or implementation that was asked for by name but cannot run here."""
