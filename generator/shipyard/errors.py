"""One error hierarchy for Shipyard.

Every error carries a one-line ``message`` (what went wrong, naming the file),
a ``hint`` (how to fix it) and the process ``exit_code`` the CLI uses. The
library raises these; only the CLI prints them. Third-party exceptions are
translated into these at the boundary where they happen.
"""

from __future__ import annotations


class ShipyardError(Exception):
    """Base class: a problem the user can act on."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str = "", path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = path

    def __reduce__(self):  # pickled across the adopt worker process with its hint and path
        return (_rebuild, (type(self), self.message, self.hint, self.path))

    def one_line(self) -> str:
        """The message and its hint on one line (a third-party message's line breaks are folded)."""
        text = self.message
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.split())


class UsageError(ShipyardError):
    """Bad flags or arguments."""

    exit_code = 2


class NotAGitRepoError(ShipyardError):
    exit_code = 3


class DirtyTreeError(ShipyardError):
    exit_code = 3


class NoNotebooksError(ShipyardError):
    exit_code = 4


class InputFileError(ShipyardError):
    """A user file that cannot be read or used (missing, malformed, unreadable)."""

    exit_code = 4


class UnsafePathError(ShipyardError):
    """A template or user path that would escape the project, or is otherwise unsafe."""

    exit_code = 5


class TemplateError(ShipyardError):
    """The template cannot be found, trusted or rendered."""

    exit_code = 6


class UntrustedTemplateError(TemplateError):
    """A template from a source nobody trusted wants to run code here (tasks, migrations, extensions, hooks,
    or any cookiecutter template): refused before anything is rendered or written."""

    exit_code = 7


class ApplyError(ShipyardError):
    """Writing failed half-way; the repo was rolled back to how it was."""

    exit_code = 8


class InternalError(ShipyardError):
    """A bug in Shipyard, reported as one line instead of a traceback."""

    exit_code = 70


def _rebuild(cls: type[ShipyardError], message: str, hint: str, path: str | None) -> ShipyardError:
    return cls(message, hint=hint, path=path)
