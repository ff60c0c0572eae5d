"""`check`: the lines that say which needed ports this machine holds, and with `--probe` what
answers behind each one.

What is held and what answers is found in `live`; reporters never import the stages that
compute, so the items are read through the small protocols below. A process name comes from
the system (a listener may rename itself to anything): the command's `emit` shows control
characters escaped in every line, as for every other value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from compose_ports.model import PortBinding, PortSpec, Project
from compose_ports.reporters.common import display_path


class HeldView(Protocol):
    """live.availability.Taken"""

    @property
    def project(self) -> Project: ...
    @property
    def binding(self) -> PortBinding: ...
    @property
    def blocked(self) -> bool: ...
    @property
    def running(self) -> bool: ...
    def describe(self) -> str: ...


class TargetView(Protocol):
    def show(self) -> str: ...


class OutcomeView(Protocol):
    def describe(self) -> str: ...


class PlannedView(Protocol):
    @property
    def project(self) -> Project: ...
    @property
    def binding(self) -> PortBinding: ...
    @property
    def spec(self) -> PortSpec: ...
    @property
    def skipped(self) -> str: ...


class JudgedView(Protocol):
    """live.probe.Judged"""

    @property
    def planned(self) -> PlannedView: ...
    @property
    def target(self) -> TargetView | None: ...
    @property
    def outcome(self) -> OutcomeView | None: ...
    @property
    def verdict(self) -> str: ...


class VerdictsView(Protocol):
    """live.probe.Verdicts"""

    @property
    def judged(self) -> tuple[JudgedView, ...]: ...
    @property
    def answering(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def silent(self) -> int: ...
    @property
    def skipped(self) -> int: ...
    @property
    def headline(self) -> str: ...


def held_lines(items: Iterable[HeldView]) -> Iterator[str]:
    for item in items:
        if item.running:
            severity = "running"
        elif item.blocked:
            severity = "error"
        else:
            severity = "note (the pool still has free ports)"
        whose = _whose(item.project, item.binding)
        said = (
            f"{item.describe()}: {whose}"
            if item.running
            else f"{item.describe()}: needed by {whose}"
        )
        yield f"{_where(item.binding)}: {said} [{severity}]"


def held_summary(count: int, blocked: int, running: int) -> str:
    ports = "host port" if count == 1 else "host ports"
    said = f"{count} {ports} checked on this machine: {blocked} blocked"
    if running:
        said += f", {running} published by their own running service"
    return f"{'Blocked' if blocked else 'Free'}: {said}."


_SEVERITY = {"ok": "ok", "error": "error", "silent": "note (the service is not running)"}


def probe_lines(verdicts: VerdictsView, engine: bool) -> Iterator[str]:
    for judged in verdicts.judged:
        item = judged.planned
        where, whose = _where(item.binding), _whose(item.project, item.binding)
        if judged.target is None or judged.outcome is None:
            port = item.spec.published or "*"
            yield f"{where}: {port}/{item.spec.protocol} not probed: {item.skipped}: {whose} [note]"
            continue
        said = f"{judged.target.show()}/tcp {judged.outcome.describe()}"
        yield f"{where}: {said}: {whose} [{_SEVERITY[judged.verdict]}]"
    yield probe_summary(verdicts, engine)


def probe_summary(verdicts: VerdictsView, engine: bool) -> str:
    probed = verdicts.answering + verdicts.failed + verdicts.silent
    said = f"{probed} probed: {verdicts.answering} answering, {verdicts.failed} not answering"
    if verdicts.silent:
        said += f", {verdicts.silent} of services that are not running"
    if verdicts.skipped:
        said += f"; {verdicts.skipped} not probed"
    if not engine:
        said += " (no engine: every declared binding counts)"
    return f"{verdicts.headline}: {said}."


def _where(binding: PortBinding) -> str:
    src = binding.source
    return f"{display_path(src.file)}:{src.line}:{src.column}"


def _whose(project: Project, binding: PortBinding) -> str:
    owner = f"stack {project.stack}" if project.stack else f"project {project.name}"
    return f"{binding.service} ({owner})"
