"""The lint reporters, on hand-built findings: each format pinned, checked against its schema.

The findings are built by hand, not computed, so that every corner of the formats is covered
whatever the rules find today: a conflict with two related bindings, a port whose value an env
file sets, every severity, a finding without a service, one without a file, paths with spaces,
commas and colons, `%`, `{}` in messages, and a file outside the current directory. The snapshots
are the formats' documentation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import jsonschema.validators
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compose_ports.findings import Finding, Related, Severity
from compose_ports.model import Diagnostic
from compose_ports.reporters import lint_github, lint_json, lint_sarif, lint_text
from compose_ports.reporters.context import ReportContext, RuleInfo

TESTS = Path(__file__).resolve().parent
SNAPSHOTS = TESTS / "snapshots" / "lint_reporters"
LINT_SCHEMA = json.loads(
    (TESTS.parent / "src" / "compose_ports" / "schemas" / "lint.schema.json").read_text()
)
SARIF_SCHEMA_PATH = TESTS.parent.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"

ROOT = "/repo"
OUTSIDE = "/elsewhere/shared/compose.yaml"
ODD = f"{ROOT}/my stack, v2/compose:prod.yaml"  # a space, a comma and a colon

RULES = (
    RuleInfo(
        "CP101",
        "host-port-conflict",
        Severity.ERROR,
        "Two bindings take the same host port.",
        "Two services publish overlapping host ports on the same address: the second one fails "
        "with `port is already allocated`. Give one of them another host port.",
        "https://compose-ports.dev/rules/CP101",
    ),
    RuleInfo(
        "CP201",
        "port-outside-range",
        Severity.WARNING,
        "A host port is outside its category's range.",
        "The config's `ranges:` give each category of service a host-port range.",
    ),
    RuleInfo(
        "CP202",
        "ephemeral-port",
        Severity.WARNING,
        "A port has no host port.",
        "Docker picks a random host port at each start.",
    ),
    RuleInfo(
        "CP301",
        "hard-coded-port",
        Severity.INFO,
        "A host port is a literal.",
        "Take host ports from variables (`${WEB_PORT:-8080}`) so that each machine can move them.",
    ),
    RuleInfo(
        "CP401",
        "unused-registry-entry",
        Severity.WARNING,
        "A registry entry matches no service.",
        "Remove the entry or fix its name.",
    ),
    RuleInfo(
        "CP402",
        "registry-out-of-date",
        Severity.INFO,
        "The registry misses published ports.",
        "Regenerate it with `compose-ports map --format markdown`.",
    ),
)

CONFLICT = Finding(
    code="CP101",
    rule="host-port-conflict",
    severity=Severity.ERROR,
    message="Host port 8080/tcp is published by 3 bindings on host staging",
    file=f"{ROOT}/shop/compose.yaml",
    line=12,
    column=7,
    service="web",
    project="shop",
    stack="shop",
    host="staging",
    related=(
        Related(f"{ROOT}/metrics/compose.yaml", 4, 9, "grafana", "metrics", "metrics"),
        Related(
            f"{ROOT}/shop/compose.dev.yaml", 8, 9, "web", "shop", "shop-dev", "appended by override"
        ),
    ),
)
OUT_OF_RANGE = Finding(
    code="CP201",
    rule="port-outside-range",
    severity=Severity.WARNING,
    message="Host port 15432 is outside 5000-6999, the range of category data",
    file=f"{ROOT}/shop/compose.yaml",
    line=20,
    column=9,
    service="postgres",
    project="shop",
    stack="shop",
    related=(Related(f"{ROOT}/shop/.env", 3, 1, message="POSTGRES_PORT=15432 is set here"),),
    fix="compose-ports fix",
)
HARD_CODED = Finding(
    code="CP301",
    rule="hard-coded-port",
    severity=Severity.INFO,
    message="Host port 9000 is 100% literal: use ${API_PORT:-9000}",
    file=ODD,
    line=3,
    column=9,
    service="api",
    project="my-stack-v2",
)
NO_SERVICE = Finding(
    code="CP401",
    rule="unused-registry-entry",
    severity=Severity.WARNING,
    message="Registry entry legacy (8081/tcp) matches no service",
    file=f"{ROOT}/.compose-ports.yaml",
    line=7,
    column=5,
)
OUTSIDE_CWD = Finding(
    code="CP202",
    rule="ephemeral-port",
    severity=Severity.WARNING,
    message="Port 6379/tcp has no host port: Docker picks one at each start",
    file=OUTSIDE,
    line=5,
    column=9,
    service="cache",
    project="shared",
)
NO_FILE = Finding(
    code="CP402",
    rule="registry-out-of-date",
    severity=Severity.INFO,
    message="The registry lists 2 of the 5 published host ports",
    file=None,
    line=0,
    column=0,
)
FINDINGS = (OUTSIDE_CWD, HARD_CODED, NO_FILE, OUT_OF_RANGE, NO_SERVICE, CONFLICT)  # unsorted
# Read errors reach the reporters as the loader found them; each format writes them its own way.
ERRORS = (Diagnostic(f"{ROOT}/shop/broken.yaml", 3, 14, "mapping values are not allowed here"),)
ERROR_LINE = "shop/broken.yaml:3:14: mapping values are not allowed here"
CONTEXT = ReportContext(
    cwd=ROOT, rules=RULES, files_read=12, files_unreadable=1, errors=ERRORS, version="0.1.0"
)
CLEAN = ReportContext(cwd=ROOT, rules=RULES, files_read=12, version="0.1.0")

REPORTERS = {"text": lint_text, "json": lint_json, "sarif": lint_sarif, "github": lint_github}
EXTENSIONS = {"text": "txt", "json": "json", "sarif": "sarif", "github": "txt"}


def sarif(findings=FINDINGS, context: ReportContext = CONTEXT) -> dict:
    return json.loads(lint_sarif.render(findings, context))


def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SARIF_SCHEMA_PATH.read_text())
    # The schema says which draft it is written in (draft-04); its refs are all internal, so no
    # resolver has to fetch anything and this works offline.
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


# --- snapshots: the documentation of each format -------------------------------------------------


@pytest.mark.parametrize("fmt", list(REPORTERS))
def test_format_snapshot(fmt: str, snapshot) -> None:
    snapshot.snapshot_dir = SNAPSHOTS
    output = REPORTERS[fmt].render(FINDINGS, CONTEXT)
    snapshot.assert_match(output, f"findings.{fmt}.{EXTENSIONS[fmt]}")


@pytest.mark.parametrize("fmt", list(REPORTERS))
def test_clean_snapshot(fmt: str, snapshot) -> None:
    snapshot.snapshot_dir = SNAPSHOTS
    output = REPORTERS[fmt].render([], CLEAN)
    snapshot.assert_match(output, f"clean.{fmt}.{EXTENSIONS[fmt]}")


@pytest.mark.parametrize("fmt", list(REPORTERS))
def test_order_of_findings_does_not_matter(fmt: str) -> None:
    render = REPORTERS[fmt].render
    assert render(FINDINGS, CONTEXT) == render(tuple(reversed(FINDINGS)), CONTEXT)


# --- text ----------------------------------------------------------------------------------------


def test_text_lines() -> None:
    lines = lint_text.render(FINDINGS, CONTEXT).splitlines()
    # The location, code and message first; the context on indented lines below.
    index = lines.index(
        "shop/compose.yaml:12:7: CP101 error host-port-conflict: Host port 8080/tcp is published"
        " by 3 bindings on host staging"
    )
    assert lines[index + 1 : index + 4] == [
        "    [service: web, stack: shop, host: staging]",
        "    also: metrics/compose.yaml:4:9 service grafana (stack metrics)",
        "    also: shop/compose.dev.yaml:8:9 service web (stack shop-dev): appended by override",
    ]
    index = lines.index(
        "shop/compose.yaml:20:9: CP201 [fix] warning port-outside-range: Host port 15432 is outside"
        " 5000-6999, the range of category data"
    )
    assert lines[index + 1 : index + 3] == [
        "    [service: postgres, stack: shop]",
        "    also: shop/.env:3:1 POSTGRES_PORT=15432 is set here",
    ]
    assert (
        ".compose-ports.yaml:7:5: CP401 warning unused-registry-entry:"
        " Registry entry legacy (8081/tcp) matches no service"
    ) in lines
    assert lines[0] == (
        "CP402 info registry-out-of-date: The registry lists 2 of the 5 published host ports"
    )
    # The error lines, then the summary, then the fixable hint.
    assert lines[-4:] == [
        ERROR_LINE,
        "",
        "Found 1 error, 3 warnings, 2 infos in 6 files (12 files read, 1 unreadable)."
        " Could not check everything: 1 problem listed above.",
        "[fix] 1 fixable with `compose-ports fix`.",
    ]


def test_text_wraps_between_words_at_the_width_only_when_given() -> None:
    plain = lint_text.render(FINDINGS, CONTEXT)
    assert max(map(len, plain.splitlines())) > 100  # nothing wraps without a terminal's width
    wrapped = lint_text.render(FINDINGS, CONTEXT._replace(width=64))
    lines = wrapped.splitlines()
    # Only a finding's head (location, code, severity and rule, never split) may pass the width.
    assert all(len(line) <= 64 or line.endswith(":") for line in lines), wrapped
    assert "shop/compose.yaml:20:9: CP201 [fix] warning port-outside-range:" in lines
    # A wrapped message goes on deeper than the context lines; the context wraps as well.
    index = lines.index("shop/compose.yaml:12:7: CP101 error host-port-conflict: Host")
    assert lines[index + 1 : index + 7] == [
        "      port 8080/tcp is published by 3 bindings on host staging",
        "    [service: web, stack: shop, host: staging]",
        "    also: metrics/compose.yaml:4:9 service grafana (stack",
        "      metrics)",
        "    also: shop/compose.dev.yaml:8:9 service web (stack",
        "      shop-dev): appended by override",
    ]
    # No word is lost or cut.
    assert wrapped.split() == plain.split()
    # The colours take no room: the same lines, painted.
    coloured = lint_text.render(FINDINGS, CONTEXT._replace(width=64, color=True))
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == wrapped


def test_concise_is_one_line_per_finding() -> None:
    concise = lint_text.render(FINDINGS, CONTEXT._replace(concise=True, width=40))
    lines = concise.splitlines()
    assert lines[:6] == [
        "CP402 info registry-out-of-date: The registry lists 2 of the 5 published host ports",
        ".compose-ports.yaml:7:5: CP401 warning unused-registry-entry: Registry entry legacy"
        " (8081/tcp) matches no service",
        "/elsewhere/shared/compose.yaml:5:9: CP202 warning ephemeral-port: Port 6379/tcp has no"
        " host port: Docker picks one at each start [service: cache]",
        "my stack, v2/compose:prod.yaml:3:9: CP301 info hard-coded-port: Host port 9000 is 100%"
        " literal: use ${API_PORT:-9000} [service: api]",
        "shop/compose.yaml:12:7: CP101 error host-port-conflict: Host port 8080/tcp is published"
        " by 3 bindings on host staging [service: web, stack: shop, host: staging]",
        "shop/compose.yaml:20:9: CP201 [fix] warning port-outside-range: Host port 15432 is outside"
        " 5000-6999, the range of category data [service: postgres, stack: shop]",
    ]
    # Then the errors and the summary, as the text format closes; nothing wraps, whatever the
    # terminal's width: one line is one finding or one error.
    assert lines[6:8] == ["", ERROR_LINE]
    assert "also:" not in concise


def test_text_groups_by_file_in_sorted_order() -> None:
    output = lint_text.render(FINDINGS, CONTEXT)
    blocks = output.split("\n\n")
    heads = [block.splitlines()[0].split(": ")[0] for block in blocks[:-2]]
    # No file first, then paths as shown, sorted (an absolute path outside cwd sorts with '/').
    assert heads == [
        "CP402 info registry-out-of-date",
        ".compose-ports.yaml:7:5",
        "/elsewhere/shared/compose.yaml:5:9",
        "my stack, v2/compose:prod.yaml:3:9",
        "shop/compose.yaml:12:7",
    ]
    # Both findings of shop/compose.yaml in one group, by line.
    assert blocks[4].splitlines()[0].startswith("shop/compose.yaml:12:7:")
    assert blocks[4].splitlines()[4].startswith("shop/compose.yaml:20:9:")


def test_text_summaries() -> None:
    assert lint_text.render([], CLEAN) == "All clear: 12 compose files read, no findings.\n"
    one = ReportContext(cwd=ROOT, rules=RULES, files_read=1)
    assert lint_text.summary([CONFLICT], one) == "Found 1 error in 3 files (1 file read)."
    assert (
        lint_text.summary([HARD_CODED, HARD_CODED], one) == "Found 2 infos in 1 file (1 file read)."
    )
    broken = ReportContext(cwd=ROOT, rules=RULES, files_read=3, files_unreadable=1, errors=ERRORS)
    assert lint_text.render([], broken) == (
        f"{ERROR_LINE}\n\n"
        "No findings (3 files read, 1 unreadable). Could not check everything: 1 problem listed"
        " above.\n"
    )
    assert lint_text.fixable_line([CONFLICT]) is None


def test_text_colour_only_when_asked() -> None:
    plain = lint_text.render(FINDINGS, CONTEXT)
    assert "\x1b[" not in plain
    coloured = lint_text.render(FINDINGS, CONTEXT._replace(color=True))
    location = "\x1b[2mshop/compose.yaml:12:7:\x1b[0m"
    assert f"{location} \x1b[1;31mCP101\x1b[0m \x1b[1;31merror\x1b[0m" in coloured
    assert "\x1b[1;33mCP201\x1b[0m [fix] \x1b[1;33mwarning\x1b[0m" in coloured
    assert "\x1b[1;36mCP301\x1b[0m \x1b[1;36minfo\x1b[0m" in coloured
    assert "    also: \x1b[2mmetrics/compose.yaml:4:9\x1b[0m service grafana" in coloured
    assert "\x1b[1mFound 1 error, 3 warnings, 2 infos" in coloured
    # Without the escape sequences, the coloured output is the plain one.
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_text_paths_relative_below_cwd_absolute_elsewhere() -> None:
    output = lint_text.render(FINDINGS, CONTEXT._replace(cwd=f"{ROOT}/shop"))
    assert "\ncompose.yaml:12:7: CP101" in output
    assert "    also: /repo/metrics/compose.yaml:4:9 service grafana (stack metrics)" in output
    assert "    also: compose.dev.yaml:8:9" in output
    assert "\n/repo/.compose-ports.yaml:7:5: CP401" in output
    assert "\n/elsewhere/shared/compose.yaml:5:9: CP202" in output


def test_positions_left_out_when_unknown() -> None:
    # Line 0 means "no position": no format prints a false `:0:0`.
    whole_file = NO_SERVICE._replace(line=0, column=0, related=(Related(OUTSIDE, 0, 0),))
    text = lint_text.render([whole_file], CLEAN).splitlines()
    assert text[:2] == [
        ".compose-ports.yaml: CP401 warning unused-registry-entry:"
        " Registry entry legacy (8081/tcp) matches no service",
        f"    also: {OUTSIDE}",
    ]
    github = lint_github.render([whole_file], CLEAN).splitlines()[0]
    assert github.startswith("::warning file=.compose-ports.yaml,title=CP401 ")
    assert github.endswith(f"(also at {OUTSIDE})")
    document = sarif([whole_file], CLEAN)
    sarif_validator().validate(document)
    [result] = document["runs"][0]["results"]
    assert "region" not in result["locations"][0]["physicalLocation"]
    assert "region" not in result["relatedLocations"][0]["physicalLocation"]
    jsonschema.Draft202012Validator(LINT_SCHEMA).validate(
        json.loads(lint_json.render([whole_file], CLEAN))
    )


# --- json ----------------------------------------------------------------------------------------


def test_lint_schema_is_a_valid_draft_2020_12_schema_with_descriptions() -> None:
    jsonschema.Draft202012Validator.check_schema(LINT_SCHEMA)

    def walk(node: dict, where: str) -> None:
        if node.get("type") == "object":
            assert node.get("additionalProperties") is False, where
        for name, child in node.get("properties", {}).items():
            target = child
            if "$ref" in child:
                target = LINT_SCHEMA["$defs"][child["$ref"].split("/")[-1]]
            assert "description" in child or "description" in target, f"{where}.{name}"
            walk(child, f"{where}.{name}")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{where}[]")

    walk(LINT_SCHEMA, "$")
    for name, definition in LINT_SCHEMA["$defs"].items():
        walk(definition, name)


@pytest.mark.parametrize("context", [CONTEXT, CLEAN], ids=["findings", "clean"])
def test_json_follows_the_schema(context: ReportContext) -> None:
    findings = FINDINGS if context is CONTEXT else ()
    document = json.loads(lint_json.render(findings, context))
    jsonschema.Draft202012Validator(LINT_SCHEMA).validate(document)


def test_json_content() -> None:
    document = json.loads(lint_json.render(FINDINGS, CONTEXT))
    assert document["errors"] == [ERROR_LINE]
    assert document["summary"] == {
        "findings": 6,
        "by_severity": {"error": 1, "warning": 3, "info": 2},
        "fixable": 1,
        "fixable_by": {"compose-ports fix": 1},
        "files_with_findings": 7,
        "files_read": 12,
        "files_unreadable": 1,
    }
    conflict = next(f for f in document["findings"] if f["code"] == "CP101")
    assert conflict == {
        "rule": "host-port-conflict",
        "code": "CP101",
        "severity": "error",
        "message": CONFLICT.message,
        "file": "shop/compose.yaml",
        "line": 12,
        "column": 7,
        "service": "web",
        "project": "shop",
        "stack": "shop",
        "host": "staging",
        "related": [
            {
                "file": "metrics/compose.yaml",
                "line": 4,
                "column": 9,
                "service": "grafana",
                "project": "metrics",
                "stack": "metrics",
                "message": None,
            },
            {
                "file": "shop/compose.dev.yaml",
                "line": 8,
                "column": 9,
                "service": "web",
                "project": "shop",
                "stack": "shop-dev",
                "message": "appended by override",
            },
        ],
        "fixable": False,
        "fix": None,
    }
    files = [f["file"] for f in document["findings"]]
    assert files == [
        None,
        ".compose-ports.yaml",
        OUTSIDE,
        "my stack, v2/compose:prod.yaml",
        "shop/compose.yaml",
        "shop/compose.yaml",
    ]


def test_json_env_file_line_is_a_related_place() -> None:
    document = json.loads(lint_json.render([OUT_OF_RANGE], CLEAN))
    [finding] = document["findings"]
    assert finding["related"] == [
        {
            "file": "shop/.env",
            "line": 3,
            "column": 1,
            "service": None,
            "project": None,
            "stack": None,
            "message": "POSTGRES_PORT=15432 is set here",
        }
    ]


# --- sarif ---------------------------------------------------------------------------------------


def test_sarif_env_file_line_is_a_related_location_with_its_message() -> None:
    [result] = sarif([OUT_OF_RANGE], CLEAN)["runs"][0]["results"]
    assert result["relatedLocations"] == [
        {
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": "shop/.env", "uriBaseId": "SRCROOT"},
                "region": {"startLine": 3, "startColumn": 1},
            },
            "message": {"text": "POSTGRES_PORT=15432 is set here"},
        }
    ]


@pytest.mark.parametrize("context", [CONTEXT, CLEAN], ids=["findings", "clean"])
def test_sarif_follows_the_official_schema(context: ReportContext) -> None:
    findings = FINDINGS if context is CONTEXT else ()
    sarif_validator().validate(sarif(findings, context))


def test_sarif_rules_and_results() -> None:
    run = sarif()["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("compose-ports", "0.1.0")
    rules = driver["rules"]
    assert [r["id"] for r in rules] == ["CP101", "CP201", "CP202", "CP301", "CP401", "CP402"]
    assert rules[0] == {
        "id": "CP101",
        "name": "host-port-conflict",
        "shortDescription": {"text": RULES[0].summary},
        "fullDescription": {"text": RULES[0].help_text},
        "help": {"text": RULES[0].help_text},
        "defaultConfiguration": {"level": "error"},
        "helpUri": "https://compose-ports.dev/rules/CP101",
    }
    assert [r["defaultConfiguration"]["level"] for r in rules] == [
        "error",
        "warning",
        "warning",
        "note",
        "warning",
        "note",
    ]
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    # A result's level is its rule's default level unless written (SARIF §3.27.10).
    levels = {
        r["ruleId"]: r.get("level", rules[r["ruleIndex"]]["defaultConfiguration"]["level"])
        for r in run["results"]
    }
    assert all("level" not in r for r in run["results"])
    assert levels == {
        "CP101": "error",
        "CP201": "warning",
        "CP202": "warning",
        "CP301": "note",
        "CP401": "warning",
    }
    # GitHub code scanning rejects a whole log for one result without a location: the finding
    # without a file is a notification, tied to its rule; read errors fail the execution.
    assert run["invocations"] == [
        {
            "executionSuccessful": False,
            "toolExecutionNotifications": [
                {
                    "level": "error",
                    "message": {"text": "mapping values are not allowed here"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {
                                    "uri": "shop/broken.yaml",
                                    "uriBaseId": "SRCROOT",
                                },
                                "region": {"startLine": 3, "startColumn": 14},
                            }
                        }
                    ],
                },
                {
                    "level": "note",
                    "message": {"text": NO_FILE.message},
                    "associatedRule": {"id": "CP402", "index": 5},
                },
            ],
        }
    ]
    assert all(r["locations"] for r in run["results"])
    alone = sarif([NO_FILE], CLEAN)["runs"][0]["invocations"]
    assert alone[0]["executionSuccessful"] is True
    assert sarif((), CLEAN)["runs"][0]["invocations"] == [{"executionSuccessful": True}]


def test_sarif_locations() -> None:
    run = sarif()["runs"][0]
    assert run["originalUriBaseIds"] == {"SRCROOT": {"uri": "file:///repo/"}}
    by_code = {r["ruleId"]: r for r in run["results"]}
    conflict = by_code["CP101"]
    assert conflict["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "shop/compose.yaml", "uriBaseId": "SRCROOT"},
                "region": {"startLine": 12, "startColumn": 7},
            }
        }
    ]
    # The result's message names the other services; a related location has a message of its
    # own only when its binding carries a note.
    assert conflict["relatedLocations"] == [
        {
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": "metrics/compose.yaml", "uriBaseId": "SRCROOT"},
                "region": {"startLine": 4, "startColumn": 9},
            },
        },
        {
            "id": 2,
            "physicalLocation": {
                "artifactLocation": {"uri": "shop/compose.dev.yaml", "uriBaseId": "SRCROOT"},
                "region": {"startLine": 8, "startColumn": 9},
            },
            "message": {"text": "service web (stack shop-dev): appended by override"},
        },
    ]
    odd = by_code["CP301"]["locations"][0]["physicalLocation"]["artifactLocation"]
    # Space, comma and colon percent-encoded; the colon would otherwise read as a URI scheme.
    assert odd == {"uri": "my%20stack%2C%20v2/compose%3Aprod.yaml", "uriBaseId": "SRCROOT"}
    assert unquote(odd["uri"]) == "my stack, v2/compose:prod.yaml"
    outside = by_code["CP202"]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert outside == {"uri": "file:///elsewhere/shared/compose.yaml"}
    # Braces are placeholder syntax in SARIF messages: doubled.
    assert by_code["CP301"]["message"]["text"] == (
        "Host port 9000 is 100% literal: use ${{API_PORT:-9000}}"
    )


def test_sarif_repository_root_differs_from_cwd() -> None:
    context = CONTEXT._replace(cwd=f"{ROOT}/shop", repository_root=ROOT)
    document = sarif(context=context)
    sarif_validator().validate(document)
    run = document["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == "file:///repo/"
    conflict = next(r for r in run["results"] if r["ruleId"] == "CP101")
    location = conflict["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "shop/compose.yaml", "uriBaseId": "SRCROOT"}
    # A relative repository root is taken from cwd, and the base URI still ends in '/'.
    nested = sarif(context=CONTEXT._replace(cwd=f"{ROOT}/shop", repository_root=".."))
    assert nested["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] == "file:///repo/"
    spaced = sarif(context=CONTEXT._replace(cwd="/my repo", repository_root=None))
    assert spaced["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] == "file:///my%20repo/"


def test_sarif_is_lean_one_result_per_line() -> None:
    output = lint_sarif.render(FINDINGS, CONTEXT)
    lines = output.rstrip("\n").split("\n")
    results = sarif()["runs"][0]["results"]
    # The document with the rules' metadata on the first line, then each result on its own.
    assert len(lines) == 1 + len(results) + 1 and lines[-1] == "]}]}"
    assert [json.loads(line.rstrip(",")) for line in lines[1:-1]] == results
    for line in lines[1:-1]:
        # Results refer to their rule by index: no rule text, no blanks between tokens.
        assert RULES[0].summary not in line
        entry = line.removesuffix(",")
        assert entry == json.dumps(json.loads(entry), separators=(",", ":"))


def test_sarif_writes_a_level_only_where_it_is_not_the_rules_default() -> None:
    demoted = CONFLICT._replace(severity=Severity.WARNING)  # `CP101: {severity: warning}`
    [result] = sarif([demoted], CLEAN)["runs"][0]["results"]
    assert result["level"] == "warning"
    [result] = sarif([CONFLICT], CLEAN)["runs"][0]["results"]
    assert "level" not in result  # the rule's defaultConfiguration.level, "error", applies


def test_sarif_properties_say_what_fixes_a_finding() -> None:
    by_code = {r["ruleId"]: r for r in sarif()["runs"][0]["results"]}
    assert by_code["CP201"]["properties"] == {
        "service": "postgres",
        "project": "shop",
        "stack": "shop",
        "fixable": True,
        "fix": "compose-ports fix",
    }
    assert "fixable" not in by_code["CP101"]["properties"]
    assert "properties" not in by_code["CP401"]  # nothing known beyond the location


def test_sarif_unknown_rule_gets_a_descriptor() -> None:
    stray = NO_SERVICE._replace(code="CP999", rule="experimental-rule")
    document = sarif([stray, CONFLICT], CONTEXT._replace(rules=RULES[:1]))
    sarif_validator().validate(document)
    run = document["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["CP101", "CP999"]
    result = next(r for r in run["results"] if r["ruleId"] == "CP999")
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["name"] == "experimental-rule"


def _fingerprint(finding: Finding, context: ReportContext = CONTEXT) -> str:
    [result] = sarif([finding], context)["runs"][0]["results"]
    return result["partialFingerprints"]["composePorts/v1"]


def test_sarif_fingerprint_is_stable_when_lines_move() -> None:
    base = _fingerprint(CONFLICT)
    assert len(base) == 64
    assert _fingerprint(CONFLICT._replace(line=40, column=3)) == base
    # Related bindings move too; the message's own position references are left out.
    moved = CONFLICT._replace(related=(CONFLICT.related[0]._replace(line=99),))
    assert _fingerprint(moved) == base
    quoted = CONFLICT._replace(message="Host port 8080/tcp is also set at compose.dev.yaml:8:9")
    assert _fingerprint(quoted._replace(message=quoted.message.replace(":8:9", ":30:1"))) == (
        _fingerprint(quoted)
    )
    on_line = CONFLICT._replace(message="Host port 8080/tcp, see line 8")
    assert _fingerprint(on_line._replace(message="Host port 8080/tcp, see line 30")) == (
        _fingerprint(on_line)
    )
    # And it does not depend on where the command runs from, only on the repository root.
    assert (
        _fingerprint(CONFLICT, CONTEXT._replace(cwd=f"{ROOT}/shop", repository_root=ROOT)) == base
    )


def test_sarif_fingerprint_changes_with_what_the_finding_is_about() -> None:
    base = _fingerprint(CONFLICT)
    changed = [
        CONFLICT._replace(service="api"),
        CONFLICT._replace(stack="shop-dev"),
        CONFLICT._replace(host="laptop"),
        CONFLICT._replace(code="CP102"),
        CONFLICT._replace(file=f"{ROOT}/other/compose.yaml"),
        CONFLICT._replace(message=CONFLICT.message.replace("8080", "8081")),
    ]
    fingerprints = {_fingerprint(f) for f in changed}
    assert base not in fingerprints
    assert len(fingerprints) == len(changed)


# --- github --------------------------------------------------------------------------------------


def test_github_escaping_rules() -> None:
    assert lint_github.escape_data("100% a\r\nb: c, d") == "100%25 a%0D%0Ab: c, d"
    assert lint_github.escape_property("100% a\r\nb: c, d") == "100%25 a%0D%0Ab%3A c%2C d"
    # '%' first: the escapes it produces are not escaped again.
    assert lint_github.escape_property("%3A") == "%253A"
    finding = HARD_CODED._replace(
        message="50% of\nports: 1,2", file=f"{ROOT}/a:b, c%.yaml", service=None
    )
    [line, _] = lint_github.render([finding], ReportContext(cwd=ROOT, rules=RULES)).splitlines()
    assert line == (
        "::notice file=a%3Ab%2C c%25.yaml,line=3,col=9,title=CP301 hard-coded-port"
        "::50%25 of%0Aports: 1,2"
    )


def test_github_commands() -> None:
    lines = lint_github.render(FINDINGS, CONTEXT).splitlines()
    assert lines[0] == (
        "::notice title=CP402 registry-out-of-date"
        "::The registry lists 2 of the 5 published host ports"
    )
    assert (
        "::error file=shop/compose.yaml,line=12,col=7,title=CP101 host-port-conflict"
        "::Host port 8080/tcp is published by 3 bindings on host staging"
        " [service: web, stack: shop, host: staging]"
        " (also at metrics/compose.yaml:4, shop/compose.dev.yaml:8)"
    ) in lines
    assert (
        "::notice file=my stack%2C v2/compose%3Aprod.yaml,line=3,col=9,title=CP301 hard-coded-port"
        "::Host port 9000 is 100%25 literal: use ${API_PORT:-9000} [service: api]"
    ) in lines
    assert (
        "::warning file=/elsewhere/shared/compose.yaml,line=5,col=9,title=CP202 ephemeral-port"
        "::Port 6379/tcp has no host port: Docker picks one at each start [service: cache]"
    ) in lines
    assert (
        "::error file=shop/broken.yaml,line=3,col=14,title=compose-ports"
        "::mapping values are not allowed here"
    ) in lines
    assert lines[-2] == lint_text.summary(FINDINGS, CONTEXT)
    assert lines[-1] == "[fix] 1 fixable with `compose-ports fix`."
    assert [line.split(" ")[0].split("::")[1] for line in lines[:-2]] == [
        "notice",
        "warning",
        "warning",
        "notice",
        "error",
        "warning",
        "error",
    ]


def test_github_paths_are_relative_to_the_repository_root() -> None:
    broken = Diagnostic(f"{ROOT}/shop/broken.yaml", 1, 1, "x")
    context = CONTEXT._replace(cwd=f"{ROOT}/shop", repository_root=ROOT, errors=(broken,))
    lines = lint_github.render([CONFLICT], context).splitlines()
    assert lines[0].startswith("::error file=shop/compose.yaml,line=12,col=7,")
    assert lines[0].endswith("(also at metrics/compose.yaml:4, shop/compose.dev.yaml:8)")
    assert lines[1] == "::error file=shop/broken.yaml,line=1,col=1,title=compose-ports::x"
    unplaced = context._replace(errors=(Diagnostic(f"{ROOT}/shop/config", 0, 0, "no stacks: key"),))
    assert lint_github.render([], unplaced).splitlines()[0] == (
        "::error title=compose-ports::config: no stacks: key"
    )


def test_errors_are_placed_by_their_fields_never_by_their_text() -> None:
    # A path that reads like a position, a message that quotes one, a line without a column,
    # and errors without a line or a file: each format places only what the loader placed.
    odd_path = Diagnostic(f"{ROOT}/a:1:2: b/compose.yaml", 3, 4, "x")
    quoting = Diagnostic(f"{ROOT}/compose.yaml", 0, 0, "include: other.yaml:3:4: bad")
    no_column = Diagnostic(f"{ROOT}/compose.yaml", 5, 0, "y")
    no_file = Diagnostic(None, 0, 0, "no stacks: 1:2: z")
    context = CLEAN._replace(errors=(odd_path, quoting, no_column, no_file))

    assert lint_text.render([], context).split("\n\n")[0].splitlines() == [
        "a:1:2: b/compose.yaml:3:4: x",
        "compose.yaml: include: other.yaml:3:4: bad",
        "compose.yaml:5:0: y",
        "no stacks: 1:2: z",
    ]
    assert json.loads(lint_json.render([], context))["errors"] == [
        "a:1:2: b/compose.yaml:3:4: x",
        "compose.yaml: include: other.yaml:3:4: bad",
        "compose.yaml:5:0: y",
        "no stacks: 1:2: z",
    ]
    assert lint_github.render([], context).splitlines()[:4] == [
        "::error file=a%3A1%3A2%3A b/compose.yaml,line=3,col=4,title=compose-ports::x",
        "::error title=compose-ports::compose.yaml: include: other.yaml:3:4: bad",
        "::error file=compose.yaml,line=5,title=compose-ports::y",
        "::error title=compose-ports::no stacks: 1:2: z",
    ]
    notifications = sarif((), context)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notifications] == [
        "x",
        "compose.yaml: include: other.yaml:3:4: bad",
        "y",
        "no stacks: 1:2: z",
    ]
    places = [
        [
            (loc["physicalLocation"]["artifactLocation"]["uri"], loc["physicalLocation"]["region"])
            for loc in n.get("locations", ())
        ]
        for n in notifications
    ]
    assert places == [
        [("a%3A1%3A2%3A%20b/compose.yaml", {"startLine": 3, "startColumn": 4})],
        [],
        [("compose.yaml", {"startLine": 5})],
        [],
    ]


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included: json writes them as NaN and Infinity
    | st.text(st.characters(codec=None)),  # surrogates too (a path's non-UTF-8 bytes)
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_the_reporters_encoder_writes_what_json_dumps_writes(value: object) -> None:
    """reporters.common keeps one C encoder for a whole report; its text is json's own."""
    from compose_ports.reporters.common import encode, encode_compact
    from compose_ports.reporters.escape import json_safe

    assert encode(value) == json_safe(json.dumps(value, separators=(", ", ": ")))
    assert encode_compact(value) == json_safe(json.dumps(value, separators=(",", ":")))
