"""The one error type of the project: a one-line message, a hint and the exit code the CLI uses.

Library modules raise it; only the command line (`__main__.py`) prints it.
"""

from __future__ import annotations

# Exit codes the CLI uses: 1 a check or gate said no, 2 a usage or configuration error, 3 the notebook's code
# failed or timed out, 69 a service it needs is unreachable (sysexits EX_UNAVAILABLE), 75 try again later:
# another train/promote/rollback holds the registry (EX_TEMPFAIL), 70 a bug, 130 interrupted.
EXIT_UNAVAILABLE = 69
EXIT_BUSY = 75


class ProjectError(Exception):
    """A problem the user can act on."""

    def __init__(self, message: str, hint: str = "", exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def one_line(self) -> str:
        return self.message + (f" ({self.hint})" if self.hint else "")
