"""YAML tags and key types, read by us and by the real Docker Compose v2.40.3 binary.

go-yaml decodes a scalar by its tag: the core schema's tags (`!!int`, `!!str`, ...) convert or
fail ("cannot decode !!str `abc` as a !!int"), any other tag (`!foo`, `!`, `!!map` on a scalar)
leaves the text a string, and a tag on a sequence or mapping changes nothing but `!reset` and
`!override`. A key that decodes to no string (`1:`, `null:`, `!!float 1:`) is refused once the
file is read, wherever it is. The cases are generated: tags and texts on port entries, on
long-syntax keys and values, and in an extension mapping, in any mix; `check_agreement` holds
us to the binary's verdict, ports and first message.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from project_strategies import GeneratedProject
from test_random_projects import SETTINGS, check_agreement

TAGS = (
    "", "", "", "!foo", "!", "!!str", "!!int", "!!float", "!!bool", "!!null", "!!binary",
    "!!timestamp", "!!map", "!!seq", "!reset", "!override", "!<tag:example.com,2000:x>",
    "!<tag:yaml.org,2002:int>",
)  # fmt: skip
VALUES = (
    "80", "8080:80", "127.0.0.1:8080:80", "1", "0", "1.5", "1e3", "0x50", "true", "null", "~",
    "", "abc", "ODA4MDo4MA==", "-1", "tcp", "1_0",
)  # fmt: skip
# No date among the values: Compose's schema refuses a time (test_random_projects pins where),
# but which of two errors in one port entry it names follows Go's map order, at random.
KEYS = (
    "target", "target", "published", "protocol", "1", "null", "true", "2001-01-01", "1.5",
    "x", "host_ip",
)  # fmt: skip


def _scalar(tag: str, text: str, quote: str) -> str:
    if quote == "'":
        written = "'" + text + "'"
    elif quote == '"':
        written = '"' + text + '"'
    else:
        written = text
    return f"{tag} {written}".strip() if tag else written


def _plain_ok(text: str) -> bool:
    return (bool(text) and not text.startswith(("!", "&", "*", "-", "?", "~"))) or text == "~"


@st.composite
def scalars(draw: st.DrawFn, texts: tuple[str, ...] = VALUES) -> str:
    text = draw(st.sampled_from(texts))
    quote = draw(st.sampled_from(("", "", "'", '"')))
    if not quote and not _plain_ok(text):
        quote = '"'
    return _scalar(draw(st.sampled_from(TAGS)), text, quote)


@st.composite
def entries(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(scalars())
    pairs = draw(st.lists(st.tuples(scalars(KEYS), scalars()), min_size=1, max_size=3))
    return "{" + ", ".join(f"{key}: {value}" for key, value in pairs) + "}"


@st.composite
def tagged_files(draw: st.DrawFn) -> GeneratedProject:
    lines = ["services:", "  web:", "    image: nginx"]
    ports_tag = draw(st.sampled_from(("", "", "!!seq", "!foo", "!override", "!!map")))
    lines.append(f"    ports: {ports_tag}".rstrip())
    lines += [f"      - {item}" for item in draw(st.lists(entries(), min_size=1, max_size=3))]
    if draw(st.booleans()):
        key, value = draw(scalars(KEYS)), draw(scalars())
        lines.append(f"    x-extra: {{{key}: {value}}}")
    return GeneratedProject((("compose.yaml", "\n".join(lines) + "\n"),), None, (), ())


@settings(SETTINGS, max_examples=80)
@given(tagged_files())
def test_tags_and_key_types_match_compose(generated: GeneratedProject) -> None:
    check_agreement(generated)
