"""`lint --format text` and `--format concise`: for people and editors, ruff-like
(tests/snapshots/lint_reporters).

    shop/compose.yaml:12:7: CP101 error host-port-conflict: host port 8080/tcp of web is already
          bound by grafana (stack metrics) on host staging
        [service: web, stack: shop, host: staging]
        also: metrics/compose.yaml:4:9 service grafana (stack metrics)
        also: shop/.env:3:1 WEB_PORT=8080 is set here
    shop/compose.dev.yaml:8:9: CP103 [fix --remap] warning override-appends-ports: 5433->5432/tcp
          is appended to postgres's 5432->5432/tcp
        [service: postgres, stack: shop-dev]
    shop/compose.yaml:20:9: CP301 [fix] info hardcoded-host-port: 15432->5432/tcp of postgres is
          hard-coded
        [service: postgres, stack: shop]

    Found 1 error, 1 warning, 1 info in 4 files (12 files read).
    [fix] 1 fixable with `compose-ports fix`; [fix --remap] 1 with `compose-ports fix --remap`.

When nothing is found: `All clear: 12 compose files read, no findings.`

- Each finding starts with `path:line:col:` (what editors and terminals make clickable), then the
  code, the fix mark when a command fixes it (`[fix]` for `compose-ports fix`, `[fix --remap]` for
  `compose-ports fix --remap`: ruff's `[*]`, naming the command), the severity (so it reads without
  colour), the rule name and the message. The project is left out: the path already says where
  the file is.
- Its context follows on indented lines: the service, stack and `hosts:` group when known
  (`[service: web, stack: shop, host: staging]`), then each related place on an `also:` line:
  the other bindings of a conflict, and the env file line that set a port's value.
- On a terminal (`context.width`), every line longer than the terminal wraps between words, its
  continuation indented further; elsewhere (a pipe, a file, the pinned outputs) lines never wrap.
  (The example above is wrapped at 100 columns.)
- `concise` (`--format concise`): one line per finding, the context at its end in brackets, no
  `also:` lines and no wrapping, for grep and editors' problem matchers.
- Findings are grouped by file (files sorted by the path shown, a blank line between groups;
  no blank lines in concise), by line and column within a file; findings without a file come
  first, without a location.
- Read and config errors come next, one `path:line:col: message` each (`path: message` or
  `message` when less is known), then the summary line.
- Colour only when `context.color` (the caller handles NO_COLOR and terminals): the code and
  severity in the severity's colour, locations dim, the summary bold.
- Every value from a file, a path or the system (paths, messages, names, errors) is shown with
  its control characters escaped (`\\x1b`), so the colours are the only escape sequences.
"""

from __future__ import annotations

from collections.abc import Sequence

from compose_ports.findings import Finding, Related, Severity
from compose_ports.model import Diagnostic
from compose_ports.reporters.common import display_path, location
from compose_ports.reporters.context import ReportContext
from compose_ports.reporters.escape import line_safe, visible

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
SEVERITY_COLOR = {
    Severity.ERROR: "\x1b[1;31m",  # bold red
    Severity.WARNING: "\x1b[1;33m",  # bold yellow
    Severity.INFO: "\x1b[1;36m",  # bold cyan
}
PLURAL = {Severity.ERROR: "errors", Severity.WARNING: "warnings", Severity.INFO: "infos"}


def error_text(error: Diagnostic, cwd: str) -> str:
    """`path:line:col: message`, `path: message` or `message`: a read or config error as the text
    and JSON formats write it, and the github and sarif ones when it has no line (raw: each format
    escapes it). The column is written even when 0, as these formats always have."""
    if not error.file:
        return error.message
    path = display_path(error.file, cwd)
    if not error.line:
        return f"{path}: {error.message}"
    return f"{path}:{error.line}:{error.column}: {error.message}"


def _paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{RESET}" if color and text else text


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def tail(finding: Finding) -> str:
    """` [service: web, stack: prod, host: staging]`, or "" when none is known (raw: each format
    escapes it)."""
    parts = [
        f"{label}: {value}"
        for label, value in (
            ("service", finding.service),
            ("stack", finding.stack),
            ("host", finding.host),
        )
        if value
    ]
    return f" [{', '.join(parts)}]" if parts else ""


def related_note(related: Related) -> str:
    """`service db (stack prod): its message`, what is known of another binding, or "" (raw)."""
    words = []
    if related.service:
        words.append(f"service {related.service}")
    if related.stack:
        words.append(f"(stack {related.stack})")
    note = " ".join(words)
    if related.message:
        note = f"{note}: {related.message}" if note else related.message
    return note


# Where a wrapped line goes on: a finding's own text deeper than its context lines, so that
# the eye tells a long message from the lines about it.
CONTEXT = "    "
CONTINUED = "      "


def _fill(prefix: str, shown: int, text: str, width: int | None, indent: str) -> list[str]:
    """`prefix` (which may hold colours; `shown` characters on screen) then `text`, wrapped
    between words at `width`, each further line behind `indent`. One line when width is None."""
    gap = "" if not prefix or prefix.endswith(" ") else " "
    if not text:
        return [prefix]
    if width is None or shown + len(gap) + len(text) <= width:
        return [prefix + gap + text]
    lines: list[str] = []
    line, used, full = prefix, shown, bool(prefix.strip())
    for word in text.split():
        if full and used + len(gap) + len(word) > width:
            lines.append(line)
            line, used, gap = indent, len(indent), ""
        line, used, gap, full = line + gap + word, used + len(gap) + len(word), " ", True
    lines.append(line)
    return lines


def _finding_lines(finding: Finding, context: ReportContext) -> list[str]:
    color = context.color
    width = None if context.concise else context.width
    head, shown = "", 0
    if finding.file:
        where = location(
            visible(display_path(finding.file, context.cwd)), finding.line, finding.column
        )
        # The path starts the line, behind the colour's own escape sequence, if any.
        safe = line_safe(where)
        head = _paint(safe + ":", DIM, color) + " "
        shown = len(safe) + 2
    style = SEVERITY_COLOR[finding.severity]
    fix = f" {fix_mark(finding.fix)}" if finding.fix else ""
    prefix = (
        f"{head}{_paint(finding.code, style, color)}{fix} "
        f"{_paint(finding.severity.value, style, color)} {finding.rule}:"
    )
    shown += len(f"{finding.code}{fix} {finding.severity.value} {finding.rule}:")
    if context.concise:
        return [f"{prefix} {visible(finding.message + tail(finding))}"]
    lines = _fill(prefix, shown, visible(finding.message), width, CONTINUED)
    if about := tail(finding).strip():
        lines += _fill(CONTEXT, len(CONTEXT), visible(about), width, CONTINUED)
    for related in finding.related:
        where = location(
            visible(display_path(related.file, context.cwd)), related.line, related.column
        )
        note = visible(related_note(related))
        painted = f"{CONTEXT}also: {_paint(where, DIM, color)}"
        lines += _fill(painted, len(CONTEXT) + len("also: ") + len(where), note, width, CONTINUED)
    return lines


def summary(findings: Sequence[Finding], context: ReportContext) -> str:
    """The closing line, shared with the github format."""
    read = _plural(context.files_read, "file")
    unreadable = f", {context.files_unreadable} unreadable" if context.files_unreadable else ""
    problems = (
        f" Could not check everything: {_plural(len(context.errors), 'problem')} listed above."
        if context.errors
        else ""
    )
    if not findings:
        if context.errors or context.files_unreadable:
            return f"No findings ({read} read{unreadable}).{problems}"
        return f"All clear: {_plural(context.files_read, 'compose file')} read, no findings."
    counts = [
        _plural(n, severity.value, PLURAL[severity])
        for severity in Severity
        if (n := sum(1 for f in findings if f.severity is severity))
    ]
    # The compose files involved: a finding's own and its other bindings'. The `.env` line a
    # value came from is no compose file (counting it said "in 3 files (2 files read)").
    files = {f.file for f in findings if f.file} | {
        r.file for f in findings for r in f.related if r.service is not None
    }
    where = f" in {_plural(len(files), 'file')}" if files else ""
    return f"Found {', '.join(counts)}{where} ({read} read{unreadable}).{problems}"


def fix_mark(command: str) -> str:
    """`[fix]`, `[fix --remap]`: the command that fixes a finding, in short."""
    return f"[{command.removeprefix('compose-ports ')}]"


def fix_counts(findings: Sequence[Finding]) -> dict[str, int]:
    """How many findings each fix command fixes, the plain `fix` first."""
    counts: dict[str, int] = {}
    for finding in findings:
        if finding.fix is not None:
            counts[finding.fix] = counts.get(finding.fix, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (len(item[0]), item[0])))


def fixable_line(findings: Sequence[Finding]) -> str | None:
    """`[fix] 3 fixable with `compose-ports fix`; [fix --remap] 1 with ...`, or None."""
    parts = [
        f"{fix_mark(command)} {count} {'fixable ' if not index else ''}with `{command}`"
        for index, (command, count) in enumerate(fix_counts(findings).items())
    ]
    return "; ".join(parts) + "." if parts else None


def ordered(findings: Sequence[Finding], cwd: str) -> list[Finding]:
    """By the path as shown (files without one first), then line, column, code and message.

    Sorting by the shown path rather than the absolute one keeps the order the reader sees; every
    format uses it so that they list findings alike.
    """

    def key(finding: Finding) -> tuple[str, int, int, str, str]:
        _, line, column, code, message = finding.sort_key()
        return (display_path(finding.file, cwd), line, column, code, message)

    return sorted(findings, key=key)


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    groups: dict[str, list[Finding]] = {}
    for finding in ordered(findings, context.cwd):
        groups.setdefault(display_path(finding.file, context.cwd), []).append(finding)
    blocks = []
    for group in groups.values():
        block: list[str] = []
        for finding in group:
            block.extend(_finding_lines(finding, context))
        blocks.append("\n".join(block))
    if context.concise and blocks:
        blocks = ["\n".join(blocks)]  # one line per finding, and nothing between them
    width = None if context.concise else context.width
    if context.errors:
        errors = [
            line
            for error in context.errors
            for line in _fill(
                "", 0, line_safe(visible(error_text(error, context.cwd))), width, CONTINUED
            )
        ]
        blocks.append("\n".join(errors))
    closing = [
        _paint(line, BOLD, context.color)
        for line in _fill("", 0, summary(findings, context), width, "")
    ]
    if (line := fixable_line(findings)) is not None:
        closing += _fill("", 0, line, width, "")
    blocks.append("\n".join(closing))
    return "\n\n".join(blocks) + "\n"
