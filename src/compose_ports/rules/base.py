"""What every rule shares: the context it reads, the problems it yields, its examples.

A rule is a module with CODE, NAME, SEVERITY, OPTIONS (defaults), SUMMARY, EXAMPLES,
`check(context)` and FIX. Its docstring is its documentation (`compose-ports explain`), and its
EXAMPLES are both its tests and the bad/good examples of that documentation (as Fixit does).
Rules read the model only; they never open a file.

A fixable rule declares it next to its check, as Fixit and ruff do: FIX names the command that
applies the fix, and `fix(problem)` says what to do about one problem, in the model's terms (the
actions below). `compose-ports fix` turns those actions into text edits and proves them; nothing
else decides what is fixable.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from compose_ports import policy
from compose_ports.compose.suppressions import Marker

if TYPE_CHECKING:
    from compose_ports.rules.actions import Action
from compose_ports.compose.workspace import Workspace
from compose_ports.findings import Related, Severity
from compose_ports.model import PortBinding, Project, Service, Source
from compose_ports.policy.config import Config, PortRange


class Problem(NamedTuple):
    """What a rule found; the pipeline turns it into a Finding (code, severity, suppression)."""

    source: Source | None
    message: str
    project: Project
    service: str | None = None
    host: str | None = None
    related: tuple[Related, ...] = ()
    severity: Severity | None = None  # only where the rule itself grades (a pool: warning)
    fixable: bool = False  # the rule's FIX applies to this problem
    not_fixed: str | None = None  # why `fix` leaves this one alone, where the rule knows
    binding: PortBinding | None = None  # the binding the problem is about, for its fix
    # The other bindings of `related`, in its order, each with the project that publishes it.
    others: tuple[tuple[Project, PortBinding], ...] = ()


class Option(NamedTuple):
    """One option a rule takes: its type (as a JSON schema), its default and what it does.

    The config schema's `rules:` section is generated from these declarations
    (config_schema.generated), so editors, the checks of `.compose-ports.yaml` and the rules
    themselves agree on every option.
    """

    schema: Mapping[str, Any]
    default: Any
    help: str


GLOBS: Mapping[str, Any] = {"type": "array", "items": {"type": "string"}}
BOOLEAN: Mapping[str, Any] = {"type": "boolean"}
PORT_RANGE: Mapping[str, Any] = {"$ref": "#/$defs/range"}


class Fix(NamedTuple):
    """How a rule's findings are fixed: the command that does it (the hint names it)."""

    command: str  # "compose-ports fix" or "compose-ports fix --remap"
    does: str  # what the fix does, in one sentence


FIX_COMMAND = "compose-ports fix"
REMAP_COMMAND = "compose-ports fix --remap"


class Example(NamedTuple):
    """A small project that shows the rule: `expect` lists (file, line, column) it reports."""

    name: str
    files: Mapping[str, str]
    expect: tuple[tuple[str, int, int], ...] = ()
    config: str | None = None  # .compose-ports.yaml text, if the example needs a policy
    args: tuple[str, ...] = ()  # lint arguments (default: the example's directory)
    fixed: Mapping[str, str] | None = None  # the files after the rule's FIX command, if shown


class Rule(Protocol):
    CODE: str
    NAME: str
    SEVERITY: Severity
    OPTIONS: Mapping[str, Option]
    SUMMARY: str
    EXAMPLES: tuple[Example, ...]
    FIX: Fix | None
    __doc__: str | None

    def check(self, context: LintContext) -> Iterator[Problem]: ...


class FixableRule(Rule, Protocol):
    """A rule whose FIX is set: `fix(problem)` says what to do about each fixable problem."""

    FIX: Fix

    def fix(self, problem: Problem) -> Iterator[Action]: ...


class MarkerUse(NamedTuple):
    """A suppression comment, and what it silenced in this run (rule codes)."""

    file: str
    marker: Marker
    silenced: frozenset[str]
    project: Project  # a project that reads the file, for the finding's policy


class LintContext:
    """The model as rules see it: projects, their policy, and each rule's options.

    The pipeline sets `rule` to the rule being run, whose options `options` then gives.
    """

    def __init__(self, workspace: Workspace, rule: Rule | None = None) -> None:
        self.workspace = workspace
        self.rule = rule
        self._options: dict[tuple[str, int], dict[str, Any]] = {}
        # Asked for each finding: the projects live as long as the run, so their ids are keys.
        self._configs: dict[int, Config | None] = {}
        # Set by the pipeline before the rules about suppressions run, after all others.
        self.markers: tuple[MarkerUse, ...] = ()
        self.ran: frozenset[str] = frozenset()  # the codes of the rules that ran before them

    @property
    def projects(self) -> tuple[Project, ...]:
        return self.workspace.projects

    def config(self, project: Project) -> Config | None:
        key = id(project)
        if key not in self._configs:
            self._configs[key] = self.workspace.config_of(project)
        return self._configs[key]

    def options(self, project: Project) -> dict[str, Any]:
        """The rule's options for this project: its defaults, then the project's config."""
        assert self.rule is not None
        config = self.config(project)
        key = (self.rule.CODE, id(config))
        if key not in self._options:
            options = {name: option.default for name, option in self.rule.OPTIONS.items()}
            if config is not None:
                setting = rule_setting(config, self.rule)
                if isinstance(setting, Mapping):
                    options.update({k: v for k, v in setting.items() if k != "severity"})
            self._options[key] = options
        return self._options[key]

    def category(self, service: Service, project: Project) -> PortRange | None:
        """The policy range a service belongs to: by service name first, then by image."""
        return policy.category(self.config(project), service.name, service.image)


def rule_setting(config: Config, rule: Rule) -> Any:
    """What the config says of a rule, under its name or its code."""
    if rule.NAME in config.rules:
        return config.rules[rule.NAME]
    return config.rules.get(rule.CODE)


def related(binding: PortBinding, project: Project, message: str | None = None) -> Related:
    src = binding.source
    return Related(
        src.file,
        src.line,
        src.column,
        binding.service,
        project.name,
        project.stack,
        message,
    )


def describe(binding: PortBinding) -> str:
    """`8080->80/tcp` or `127.0.0.1:8080->80/tcp`, as people write it."""
    spec = binding.spec
    ip = spec.host_ip
    rng = spec.host_range()
    host = spec.published or "(ephemeral)"
    if rng and spec.count > 1:
        host = f"{rng[0]}-{rng[1]}"
    if ip:
        host = f"[{ip}]:{host}" if ":" in ip else f"{ip}:{host}"
    target = str(spec.target)
    if spec.count > 1:
        target = f"{spec.target}-{spec.target + spec.count - 1}"
    return f"{host}->{target}/{spec.protocol}"


def where(project: Project) -> str:
    return f"stack {project.stack}" if project.stack else f"project {project.name}"


def bindings(project: Project) -> Iterator[tuple[Service, PortBinding]]:
    for service in project.active_services:
        for binding in service.ports:
            yield service, binding
