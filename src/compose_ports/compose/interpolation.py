"""Docker Compose's `${...}` variable substitution, reproduced quirk for quirk, with provenance.

The reference is compose-go@v2.9.1:template/template.go (the version inside Docker Compose v2.40.3),
checked against the real binary by tests/test_interpolation.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Literal, NamedTuple

from compose_ports.compose.golang import go_quote
from compose_ports.errors import ComposePortsError

__all__ = ["Interpolated", "InterpolationError", "go_quote", "has_variables", "interpolate"]

# Go's `(?i)[_a-z]` folds with Unicode simple case folding, so it also accepts KELVIN SIGN (U+212A,
# folds to k) and LATIN SMALL LETTER LONG S (U+017F, folds to s), but not the Turkish dotless/dotted
# i that Python's IGNORECASE would add; hence explicit classes instead of re.IGNORECASE.
_NAME = "[_a-zA-Z\u017f\u212a][_a-zA-Z0-9\u017f\u212a]*"
# compose-go@v2.9.1:template/template.go:29-49, with the braced group split into name, operator
# and argument. The argument `(.*)` is greedy and `.` stops at a newline (as in Go), so a braced
# match runs to the LAST `}` of its line; the real end of the expression is then found by brace
# counting (_closing_brace). Compose picks the operator that occurs first in the match
# (getSubstitutionFunctionForTemplate); as names hold no operator characters, that is always the
# one right after the name, which is what the `op` group captures.
_PATTERN = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<named>" + _NAME + r")|\{(?:(?P<name>" + _NAME + r")"
    r"(?:(?P<op>:?[-+?]).*)?\}|(?P<invalid>)))"
)
_BRACES = re.compile(r"[{}]")

Lookup = Callable[[str], "str | None"]


class InterpolationError(ComposePortsError):
    """A substitution that Compose refuses.

    ``kind`` is ``"required"`` for a `${X:?...}`/`${X?...}` whose variable has no acceptable value
    (message: ``required variable X is missing a value[: reason]``, to which Compose prepends
    ``error while interpolating PATH: ``), or ``"format"`` for bad syntax. For a format error
    Compose prints ``invalid interpolation format for PATH.\\nYou may need to escape any $ with
    another $.\\nTEMPLATE`` where TEMPLATE is ``self.template``: the innermost text Compose was
    substituting (the whole scalar, or only a default or the text after a `${...}` that had an
    operator). The message of a format error is Go's own ``Invalid template: "TEMPLATE"``, which
    is what Compose shows when the bad text is in a `.env` file.
    """

    def __init__(
        self,
        message: str,
        kind: Literal["required", "format"],
        template: str | None = None,
        variable: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: Literal["required", "format"] = kind
        self.template = template
        self.variable = variable


class Interpolated(NamedTuple):
    """The result of one substitution and where it came from."""

    value: str
    # Every variable name referenced, in order of appearance, without duplicates.
    variables: tuple[str, ...]
    # Referenced variables for which lookup gave None (set-but-empty variables are not here).
    unset: tuple[str, ...]
    # Some `:-`/`-` default or `:+`/`+` alternative text ended up in value.
    used_default: bool
    # The variables Compose warns about ('The "P" variable is not set. Defaulting to a blank
    # string.'): unset ones used as `$P`/`${P}`, without an operator.
    warnings: tuple[str, ...] = ()


def has_variables(text: str) -> bool:
    """Whether Compose could change text at all; cheap enough for every scalar."""
    return "$" in text


def interpolate(text: str, lookup: Lookup) -> Interpolated:
    """Substitute text exactly as Docker Compose v2.40.3 does, or raise InterpolationError."""
    if "$" not in text:
        return _unchanged(text)
    state = _State(lookup)
    value, used_default = _substitute(text, state)
    return Interpolated(
        value,
        tuple(state.variables),
        tuple(state.unset),
        used_default,
        tuple(state.warnings),
    )


@lru_cache(maxsize=4096)
def _unchanged(text: str) -> Interpolated:
    # Building the result costs more than the lookup; most scalars repeat (ports, images).
    return Interpolated(text, (), (), False)


class _State:
    __slots__ = ("lookup", "unset", "variables", "warnings")

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup
        # dicts as insertion-ordered sets
        self.variables: dict[str, None] = {}
        self.unset: dict[str, None] = {}
        self.warnings: dict[str, None] = {}

    def get(self, name: str) -> str | None:
        value = self.lookup(name)
        if value is None:
            self.unset[name] = None
        return value


def _substitute(template: str, state: _State) -> tuple[str, bool]:
    """compose-go SubstituteWithOptions: every match left to right, the first error wins."""
    if "$" not in template:
        return template, False
    parts: list[str] = []
    used_default = False
    pos = 0
    for match in _PATTERN.finditer(template):
        parts.append(template[pos : match.start()])
        pos = match.end()
        try:
            value, used = _replace(match, state)
        except InterpolationError as err:
            # Go fills an empty InvalidTemplateError.Template with the text being substituted at
            # the level where it surfaces first, i.e. the innermost one.
            if err.kind == "format" and err.template is None:
                err.template = template
                err.message = f"Invalid template: {go_quote(template)}"
                err.args = (err.message,)
            raise
        parts.append(value)
        used_default = used_default or used
    if pos == 0:
        return template, False
    parts.append(template[pos:])
    return "".join(parts), used_default


def _closing_brace(s: str) -> int:
    """compose-go@v2.9.1 getFirstBraceClosingIndex, blind spots included.

    It counts EVERY `{` (not only `${`) and skips the character after it, so `${A:-{}x}` closes
    at its last brace and `${A:-{}${B}` does not close at all (the whole match is then the braced
    text).
    """
    depth = 0
    skipped = -1
    for brace in _BRACES.finditer(s):
        i = brace.start()
        if i == skipped:
            continue
        if s[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        else:
            depth += 1
            skipped = i + 1
    return -1


def _replace(match: re.Match[str], state: _State) -> tuple[str, bool]:
    """compose-go DefaultReplacementAppliedFunc for one match of _PATTERN."""
    if match.group("escaped") is not None:
        return "$", False
    name = match.group("named")
    if name is not None:
        state.variables[name] = None
        return _plain(name, state), False
    name = match.group("name")
    if name is None:
        raise InterpolationError("Invalid template", "format")
    state.variables[name] = None
    operator = match.group("op")
    if operator is None:
        return _plain(name, state), False

    text = match.group(0)
    start = 2 + len(name) + len(operator)
    closing = _closing_brace(text)
    if closing > -1:
        argument, rest = text[start:closing], text[closing + 1 :]
    else:
        argument, rest = text[start:-1], ""
    # v2.40.3 quirk: the default/alternative/message text is substituted BEFORE the variable is
    # looked at, so its errors and unset variables count even when it is not used. Fixed only in
    # compose-go v2.10.1 (commit ddb94f1 "fix: avoid eager default interpolation").
    argument_value, _ = _substitute(argument, state)
    value = state.get(name)
    used = False
    if operator in (":-", "-"):
        if value is None or (operator == ":-" and value == ""):
            value, used = argument_value, True
    elif operator in (":+", "+"):
        if value is not None and (operator == "+" or value != ""):
            value, used = argument_value, True
        elif value is None:
            value = ""
    elif value is None or (operator == ":?" and value == ""):
        message = f"required variable {name} is missing a value"
        if argument_value:
            message += f": {argument_value}"
        raise InterpolationError(message, "required", variable=name)
    if rest:
        rest_value, rest_used = _substitute(rest, state)
        return value + rest_value, used or rest_used
    return value, used


def _plain(name: str, state: _State) -> str:
    value = state.get(name)
    if value is None:
        state.warnings[name] = None
        return ""
    return value
