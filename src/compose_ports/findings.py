"""What lint reports: findings, each tied to the scalar that causes it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True, slots=True)
class Related:
    """Another binding involved in a finding (the other side of a conflict)."""

    file: str
    line: int
    column: int
    service: str | None = None
    project: str | None = None
    stack: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    code: str  # CP101
    rule: str  # host-port-conflict
    severity: Severity
    message: str
    file: str | None
    line: int
    column: int
    service: str | None = None
    project: str | None = None
    stack: str | None = None
    host: str | None = None  # the config's `hosts:` group, for conflicts across stacks
    related: tuple[Related, ...] = ()
    fix: str | None = None  # the command that fixes it (its rule's FIX), if it can be fixed

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    @property
    def files(self) -> set[str]:
        """Every file the finding involves: its own and the related bindings'."""
        result = {r.file for r in self.related}
        if self.file:
            result.add(self.file)
        return result

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file or "", self.line, self.column, self.code, self.message)
