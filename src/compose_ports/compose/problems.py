"""What a load found wrong and what it learned on the way, gathered as it goes."""

from __future__ import annotations

from compose_ports.errors import ComposePortsError
from compose_ports.model import Diagnostic, Duplicate


class Problems:
    """What a load found wrong, collected so one bad entry never stops the rest."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.rejections: list[str] = []
        self.warnings: list[str] = []
        self.duplicates: dict[str, list[Duplicate]] = {}
        # Every compose file the project reads (its own, and what include and extends reach),
        # and every variable an env file it interpolates from defines (an included project's
        # `.env` too): `fix` must know who else reads a scalar, and which names are taken.
        self.files: dict[str, None] = {}
        self.defined: set[str] = set()

    def add(self, diagnostic: Diagnostic) -> None:
        if diagnostic not in self.diagnostics:
            self.diagnostics.append(diagnostic)

    def error(self, exc: ComposePortsError, kind: str = "read", service: str | None = None) -> None:
        self.add(Diagnostic(exc.file, exc.line, exc.column, exc.message, kind, service))

    def duplicate(self, service: str, entry: Duplicate) -> None:
        entries = self.duplicates.setdefault(service, [])
        if entry not in entries:
            entries.append(entry)

    def reject(self, reason: str) -> None:
        if reason not in self.rejections:
            self.rejections.append(reason)
