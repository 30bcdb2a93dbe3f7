"""The one exception type for problems the user can fix.

`cli.py` turns it into a single red line on stderr and the exit code it carries;
anything else escaping is a bug and is allowed to show its traceback.
"""

from __future__ import annotations

# Exit codes are part of the interface: scripts branch on them.
EXIT_RUNTIME = 1  # no trained model, corrupt checkpoint, disk full
EXIT_BAD_INPUT = 2  # bad option, unreadable image, bad data directory
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, what shells expect


class RnnMnistError(Exception):
    """An error meant for the user: `str(error)` is the whole message."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class BadInput(RnnMnistError):
    """The user gave us something we cannot use (exit code 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_BAD_INPUT)


class RuntimeFailure(RnnMnistError):
    """The inputs were fine but the work could not be done (exit code 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_RUNTIME)
