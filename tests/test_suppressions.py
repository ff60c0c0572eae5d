"""Suppression comments as people write them: reasons after the rules, and the broken ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ORCHESTRA

from compose_ports.compose.loading import LoadOptions
from compose_ports.compose.suppressions import scan
from compose_ports.compose.workspace import load_workspace
from compose_ports.lint import lint
from compose_ports.rules import RULES


@pytest.mark.parametrize(
    ("comment", "codes", "reason", "problem"),
    [
        ("# compose-ports: ignore[CP101]", ("CP101",), "", None),
        ("# compose-ports: ignore[CP101] hybrid mode only", ("CP101",), "hybrid mode only", None),
        (
            "#compose-ports:ignore[CP101, host-port-conflict]",
            ("CP101", "host-port-conflict"),
            "",
            None,
        ),
        ("# compose-ports: ignore", None, "", None),
        ("# compose-ports: ignore  the proxy owns it", None, "the proxy owns it", None),
        ("# compose-ports: ignore CP101", (), "", "write the rules in brackets: ignore[CP101]"),
        ("# compose-ports: ignore[CP101", (), "", "the rule list has no closing ']'"),
        ("# compose-ports: ignore[]", (), "", "an empty name in the rule list"),
        ("# compose-ports: ignore[CP101]x", (), "", "unexpected 'x' right after the rule list"),
        (
            "# compose-ports: ingore[CP101]",
            (),
            "",
            "unknown directive 'ingore' (did you mean 'ignore'?)",
        ),
        (
            "# compose-ports: ignorefile",
            (),
            "",
            "unknown directive 'ignorefile' (did you mean 'ignore-file'?)",
        ),
    ],
)
def test_the_grammar(
    comment: str, codes: tuple[str, ...] | None, reason: str, problem: str | None
) -> None:
    (marker,) = scan(f'services:\n  web:\n    ports: ["80:80"]  {comment}\n')
    assert marker.problem == problem
    if problem is None:
        assert (marker.codes, marker.reason, marker.lines) == (codes, reason, (3,))


def test_a_comment_alone_silences_the_next_line_too_and_ignore_file_only_on_top() -> None:
    text = (
        "# compose-ports: ignore-file generated\nservices:\n  # compose-ports: ignore\n"
        "  x: 1\n  # compose-ports: ignore-file\n"
    )
    top, alone, late = scan(text)
    assert top.whole_file and top.reason == "generated"
    assert alone.lines == (3, 4)
    assert late.problem == "ignore-file works only in the comment block at the top of a file"


def _lint(root: Path, text: str, config: str = "", *codes: str) -> list[tuple[str, int]]:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    (root / "compose.yaml").write_text(text)
    if config:
        (root / ".compose-ports.yaml").write_text(config)
    workspace = load_workspace([str(root)], LoadOptions(environ={}, cwd=str(root)))
    result = lint(workspace, RULES, enabled=codes)
    return [(f.code, f.line) for f in result.findings]


CONFLICT = (
    'services:\n  a:\n    image: nginx\n    ports: ["8080:80"]\n  b:\n    image: nginx\n'
    '    ports: ["8080:81"]  {comment}\n'
)


def test_a_reason_after_the_rules_still_silences(tmp_path: Path) -> None:
    found = _lint(
        tmp_path, CONFLICT.format(comment="# compose-ports: ignore[CP101] hybrid mode only")
    )
    assert ("CP101", 7) not in found
    assert not [c for c, _ in found if c == "CP501"]


def test_a_broken_comment_silences_nothing_and_says_so(tmp_path: Path) -> None:
    found = _lint(tmp_path, CONFLICT.format(comment="# compose-ports: ignore CP101"))
    assert ("CP101", 7) in found
    assert ("CP501", 7) in found


def test_unused_suppressions_only_when_turned_on(tmp_path: Path) -> None:
    text = CONFLICT.format(comment="# compose-ports: ignore[CP101,CP202]").replace(
        "8080:81", "8081:81"
    )
    assert not [c for c, _ in _lint(tmp_path / "off", text) if c == "CP502"]
    assert ("CP502", 7) in _lint(tmp_path / "selected", text, "", "CP502")
    config = "rules:\n  unused-suppression: warning\n"
    assert ("CP502", 7) in _lint(tmp_path / "configured", text, config)
    used = CONFLICT.format(comment="# compose-ports: ignore[CP101]")
    assert not [c for c, _ in _lint(tmp_path / "used", used, "", "CP502") if c == "CP502"]


def test_the_orchestra_team_writes_its_reason_after_the_rule(tmp_path: Path) -> None:
    copy = tmp_path / "orchestra"
    shutil.copytree(ORCHESTRA, copy)
    for path in (copy, *copy.rglob("*")):
        path.chmod(path.stat().st_mode | 0o200)
    (copy / ".git").mkdir()
    mcp = copy / "mcp" / "docker-compose.yml"
    lines = mcp.read_text().splitlines(keepends=True)
    before = _findings(copy)
    line = next(f for f in before if f[0] == "CP101" and f[1].endswith("mcp/docker-compose.yml"))[2]
    lines[line - 1] = (
        lines[line - 1].rstrip("\n") + "  # compose-ports: ignore[CP101] hybrid mode only\n"
    )
    mcp.write_text("".join(lines))
    after = _findings(copy)
    assert not [f for f in after if f[0] == "CP101" and f[2] == line and f[1] == str(mcp)]
    assert not [f for f in after if f[0] == "CP501"]


def _findings(root: Path) -> list[tuple[str, str, int]]:
    workspace = load_workspace([str(root)], LoadOptions(environ={}, cwd=str(root)))
    return [(f.code, f.file or "", f.line) for f in lint(workspace, RULES).findings]
