"""User-facing input errors.

Every mistake a user can make in a file or on the command line is raised as an
``InputError`` (a ``ValueError``), whose message is one line naming the file,
the key path and the fix. The CLI prints it and exits with code 2; anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """A problem with user input: a file, a key in a file, or a command-line option."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 fix: str | None = None) -> None:
        self.file = file
        self.key = key
        self.fix = fix
        self.detail = message
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.key:
            parts.append(self.key)
        where = ": ".join(parts)
        text = f"{where}: {self.detail}" if where else self.detail
        if self.fix:
            text += f" (fix: {self.fix})"
        return " ".join(text.split())


class ScenarioError(InputError):
    """A scenario file that does not validate."""


class NetworkError(InputError):
    """A road network that cannot be loaded or used (missing, corrupt, empty, offline, unreachable)."""


class DemandError(InputError):
    """Call data or a fitted-demand file that cannot be used."""
