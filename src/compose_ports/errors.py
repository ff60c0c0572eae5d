"""The one error type that may leave the loader: a problem tied to a place in a file."""

from __future__ import annotations


class ComposePortsError(Exception):
    """Bad input, reported as ``file:line:col: message`` and exit code 2, never a traceback."""

    def __init__(
        self, message: str, file: str | None = None, line: int = 0, column: int = 0
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column

    def located(self, file: str | None = None, line: int = 0, column: int = 0) -> ComposePortsError:
        """The same error, placed where the caller knows it happened (if it had no place yet)."""
        if self.file is None and file is not None:
            self.file = file
        if not self.line and line:
            self.line, self.column = line, column
        return self

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        if self.line:
            return f"{self.file}:{self.line}:{self.column}: {self.message}"
        return f"{self.file}: {self.message}"
