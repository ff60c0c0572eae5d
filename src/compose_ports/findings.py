"""What lint reports: findings, each tied to the scalar that causes it.

Findings and their related places are NamedTuples, as the records outside the model are: Python
builds one at a fifth of a frozen dataclass's cost at import, which every run pays.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple, Protocol


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Related(NamedTuple):
    """Another place involved in a finding: the other side of a conflict, or the env file line
    that set a port (then only `message` says what it is)."""

    file: str
    line: int
    column: int
    service: str | None = None
    project: str | None = None
    stack: str | None = None
    message: str | None = None


class Setting(Protocol):
    """An env file line that sets a port's variable (model.EnvSetting: the model and the
    findings are siblings in the layers, and neither imports the other)."""

    @property
    def name(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...


def set_here(*settings: Setting | None) -> tuple[Related, ...]:
    """`WEAVIATE_PORT=8001 is set here`, at each env file line a port's value comes from: the
    compose line alone would send the reader to a file where nothing needs to change."""
    return tuple(
        Related(s.file, s.line, s.column, message=f"{s.name}={s.value} is set here")
        for s in dict.fromkeys(settings)
        if s is not None
    )


class Finding(NamedTuple):
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
