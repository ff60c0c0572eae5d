"""PyYAML's import-time patterns are deferred (a start-up cost), and behave as compiled ones."""

from __future__ import annotations

import copy
import datetime
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ORCHESTRA
from hypothesis import given
from hypothesis import strategies as st

import compose_ports.yamlread as yamlread

# Every command is imported and one lint and one `fix --check` run, in a fresh interpreter: no
# module of ours may import PyYAML around the reader, nor anything compile what was deferred.
_RUN = """
import re, sys
from compose_ports.commands import entry  # the console script's, without its os._exit
for argv in (["lint", "--exit-zero", "--format", "json"], ["fix", "--check"]):
    sys.argv = ["compose-ports", *argv]
    try:
        entry()
    except SystemExit:
        pass
import yaml.reader, yaml.resolver
deferred = [yaml.reader.Reader.NON_PRINTABLE] + [
    pattern
    for resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.values()
    for _, pattern in resolvers
]
print(type(re.compile("a")) is re.Pattern, len(deferred),
      sum(type(p).__name__ == "_DeferredPattern" and p._compiled is None for p in deferred))
"""


def test_a_run_compiles_none_of_pyyamls_patterns(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", _RUN],
        cwd=ORCHESTRA,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    restored, patterns, untouched = out[-3:]
    assert restored == "True"
    assert int(patterns) > 10 and untouched == patterns


def test_re_compile_is_given_back() -> None:
    assert re.compile is yamlread._compile_now
    assert isinstance(re.compile("a+"), re.Pattern)


def test_pyyaml_still_types_and_checks_as_it_did() -> None:
    assert yaml.safe_load("a: [1, 0o17, 2.5, yes, ~, 2001-12-14, '7']") == {
        "a": [1, "0o17", 2.5, True, None, datetime.date(2001, 12, 14), "7"]
    }
    try:
        yaml.safe_load("a: b\x01")
    except yaml.reader.ReaderError as error:
        assert "#x0001" in str(error)
    else:
        raise AssertionError("the pure-Python reader let a control character through")


_PATTERNS = [yaml.reader.Reader.NON_PRINTABLE] + [
    pattern
    for resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.values()
    for _, pattern in resolvers
]
_SCALARS = st.one_of(
    st.text(),
    st.from_regex(r"[-+0-9._:eExXoObB ~yYnNtTfF]{0,12}", fullmatch=True),
)


@given(st.sampled_from(_PATTERNS), _SCALARS)
def test_a_deferred_pattern_answers_as_the_compiled_one(
    pattern: re.Pattern[str], text: str
) -> None:
    # PyYAML may have been imported before the reader in this process: defer here, explicitly.
    compiled = yamlread._compile_now(pattern.pattern, pattern.flags)
    pattern = yamlread._DeferredPattern(pattern.pattern, pattern.flags)  # type: ignore[assignment]
    assert pattern.pattern == compiled.pattern
    assert str(pattern.match(text)) == str(compiled.match(text))
    assert str(pattern.search(text)) == str(compiled.search(text))


def test_a_deferred_pattern_survives_copying_and_pickling() -> None:
    deferred = yamlread._DeferredPattern(r"a+", 0)
    for copied in (
        copy.copy(deferred),
        copy.deepcopy(deferred),
        pickle.loads(pickle.dumps(deferred)),
    ):
        assert copied.match("aab").group() == "aa"  # type: ignore[union-attr]
