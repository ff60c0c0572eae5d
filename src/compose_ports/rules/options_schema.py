"""The `rules:` section of schemas/config.schema.json, generated from the rules' declarations.

Each rule declares its options (`OPTIONS`, with their types); this module turns them into the
JSON schema editors and `.compose-ports.yaml`'s checks use, so that the two never drift. The
file is written by `python -m compose_ports.rules.options_schema`, and a test holds it to what
this module generates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from compose_ports.rules import RULES
from compose_ports.rules.base import Rule

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "config.schema.json"


def _rule_schema(rule: Rule) -> dict[str, Any]:
    options: dict[str, Any] = {"severity": {"$ref": "#/$defs/severity"}}
    for name, option in rule.OPTIONS.items():
        options[name] = {**option.schema, "description": option.help, "default": option.default}
    return {
        "description": f"{rule.NAME} ({rule.CODE}): {rule.SUMMARY}",
        "oneOf": [
            {"$ref": "#/$defs/severity"},
            {"type": "object", "additionalProperties": False, "properties": options},
        ],
    }


def generated(base: dict[str, Any]) -> dict[str, Any]:
    """The config schema `base` with its `rules:` section made from the rules of this version."""
    schema: dict[str, Any] = json.loads(json.dumps(base))  # a deep copy
    defs = {k: v for k, v in schema["$defs"].items() if not k.startswith("rule-")}
    properties: dict[str, Any] = {}
    for rule in RULES:
        ref = {"$ref": f"#/$defs/rule-{rule.CODE}"}
        properties[rule.CODE] = ref
        properties[rule.NAME] = ref
        defs[f"rule-{rule.CODE}"] = _rule_schema(rule)
    schema["properties"]["rules"] = {
        "description": (
            "Per rule, by name or code: a severity, `off`, or a mapping with `severity` and "
            "the rule's options."
        ),
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    schema["$defs"] = defs
    return schema


def text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    """Write the generated schema over the file (`--check`: exit 1 if it differs)."""
    current = SCHEMA.read_text(encoding="utf-8")
    wanted = text(generated(json.loads(current)))
    if "--check" in sys.argv[1:]:
        return 0 if wanted == current else 1
    SCHEMA.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
