"""Each rule's examples are its tests (as in Fixit), and its docstring is its documentation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from compose_ports.commands import main
from compose_ports.compose.loading import LoadOptions
from compose_ports.compose.workspace import load_workspace
from compose_ports.lint import chosen_rules, lint
from compose_ports.rules import RULES, select
from compose_ports.rules.base import Example, Rule

CASES = [(rule, example) for rule in RULES for example in rule.EXAMPLES]


def _write(example: Example, root: Path) -> None:
    (root / ".git").mkdir()
    for name, text in example.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if example.config:
        (root / ".compose-ports.yaml").write_text(example.config)


@pytest.mark.parametrize(("rule", "example"), CASES, ids=[f"{r.CODE}-{e.name}" for r, e in CASES])
def test_rule_examples(rule: Rule, example: Example, tmp_path: Path) -> None:
    _write(example, tmp_path)
    options = LoadOptions(environ={}, cwd=str(tmp_path))
    workspace = load_workspace(list(example.args) or ["."], options)
    # A rule about suppressions judges what the other rules found: they all run.
    late = getattr(rule, "AFTER_SUPPRESSIONS", False)
    result = lint(workspace, RULES if late else chosen_rules([rule.CODE]))
    assert result.errors == ()
    found = [
        (Path(f.file).relative_to(tmp_path).as_posix(), f.line, f.column)
        for f in result.findings
        if f.code == rule.CODE
    ]
    assert found == list(example.expect)
    assert all(f.rule == rule.NAME for f in result.findings if f.code == rule.CODE)
    assert late or all(f.code == rule.CODE for f in result.findings)


FIXED = [(rule, example) for rule, example in CASES if example.fixed is not None]


@pytest.mark.parametrize(("rule", "example"), FIXED, ids=[f"{r.CODE}-{e.name}" for r, e in FIXED])
def test_rule_fix_examples(
    rule: Rule, example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An example that shows its fix is what the rule's FIX command writes, then has no finding."""
    assert rule.FIX is not None and example.fixed is not None
    _write(example, tmp_path)
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if "PORT" in name.upper() or name.startswith("COMPOSE_"):
            monkeypatch.delenv(name)
    command = rule.FIX.command.split()[1:]
    result = CliRunner().invoke(main, [*command, *(example.args or ["."])])
    assert result.exit_code == 1, result.output
    for name, text in example.fixed.items():
        assert (tmp_path / name).read_text() == text, name
    options = LoadOptions(environ={}, cwd=str(tmp_path))
    workspace = load_workspace(list(example.args) or ["."], options)
    assert lint(workspace, chosen_rules([rule.CODE])).findings == ()


def test_fixable_rules_show_their_fix() -> None:
    """Fixit's way: a rule whose FIX is set shows it on an example (its docs and its test)."""
    for rule in RULES:
        shown = any(e.fixed is not None for e in rule.EXAMPLES)
        assert shown == (rule.FIX is not None), rule.CODE


@pytest.mark.parametrize("rule", RULES, ids=[r.CODE for r in RULES])
def test_rule_documentation(rule: Rule) -> None:
    doc = rule.__doc__ or ""
    assert doc.startswith(f"{rule.NAME} ({rule.CODE}): ")
    for section in ("What it reports", "Why", "Bad", "Good", "How to fix"):
        assert f"\n{section}\n" in doc, section
    assert rule.EXAMPLES, "a rule shows at least one example"
    assert any(e.expect for e in rule.EXAMPLES), "and one that it reports"


def test_codes_and_names_are_unique() -> None:
    assert len({r.CODE for r in RULES}) == len({r.NAME for r in RULES}) == len(RULES)


def test_selection_by_code_prefix_and_name() -> None:
    assert select(["CP1"]) == {"CP101", "CP102", "CP103", "CP104"}
    assert select(["host-port-conflict", "CP302"]) == {"CP101", "CP302"}
    with pytest.raises(KeyError):
        select(["CP999"])
    assert [r.CODE for r in chosen_rules(["CP1"], ["CP102"])] == ["CP101", "CP103", "CP104"]


def test_rules_and_explain_commands() -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["rules"])
    assert listing.exit_code == 0
    assert len(listing.output.splitlines()) == len(RULES)
    explained = runner.invoke(main, ["explain", "override-appends-ports"])
    assert explained.exit_code == 0
    assert "CP103 override-appends-ports" in explained.output
    assert "ports: !override" in explained.output
    assert runner.invoke(main, ["explain", "CP999"]).exit_code == 2
