"""What the lint reporters are told besides the findings: the run's rules, counts and settings.

Every lint reporter has the same signature, `render(findings, context) -> str`, so the command line
can pick one by name; everything a format needs beyond the findings travels in `ReportContext`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from compose_ports import __version__
from compose_ports.findings import Severity
from compose_ports.model import Diagnostic


class RuleInfo(NamedTuple):
    """A rule's metadata: SARIF's `tool.driver.rules`, and titles where a format has them."""

    code: str  # CP101
    name: str  # host-port-conflict
    severity: Severity  # the default; a finding carries its own
    summary: str  # one sentence
    help_text: str  # what the rule checks, why, and how to fix it
    help_uri: str | None = None


class ReportContext(NamedTuple):
    cwd: str
    """Paths are shown relative to it when below it, else absolute."""
    rules: Sequence[RuleInfo]
    """Every rule that ran (SARIF lists them even when they found nothing)."""
    files_read: int = 0
    """Compose files read."""
    files_unreadable: int = 0
    """Files that could not be read (each also has a line in `errors`)."""
    errors: Sequence[Diagnostic] = ()
    """Read and config errors (the exit-2 cases), as the loader found them: each format places
    and writes them its own way."""
    color: bool = False
    """Text only. The caller decides (a terminal, NO_COLOR, --color)."""
    width: int | None = None
    """Text only: the terminal's width, at which long lines wrap between words; None (output
    that is not a terminal) never wraps, so that what is piped or pinned stays one way."""
    concise: bool = False
    """Text only: one line per finding (`--format concise`), its context at the end."""
    repository_root: str | None = None
    """SARIF's SRCROOT and GitHub's annotation paths; None means `cwd`."""
    version: str = __version__
    """The tool's version, for SARIF's `tool.driver.version`."""

    @property
    def root(self) -> str:
        return self.repository_root or self.cwd
