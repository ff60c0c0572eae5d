"""The port registry (`map --format markdown|html`): its view, its markdown, its page.

The page is also rendered by a real headless Chromium, because "it looks right" is only true in a
browser: the screenshot must have the window's size, not be blank, and show the conflicts in red.
CI installs Chromium (`apt-get install -y chromium`); without it this test fails, never skips.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import SHARED, TESTS

from compose_ports.compose.loading import LoadOptions
from compose_ports.compose.workspace import Workspace, load_workspace
from compose_ports.reporters import map_html, map_markdown, registry_view
from compose_ports.reporters.registry_view import Band, HostGroup, Member, Peer, RegistryView, Row

SNAPSHOTS = TESTS / "snapshots" / "map_registry"
CWD = str(SHARED)
# The conflicts of the user story, per host: (host port, service, stack).
CONFLICTS = {
    "prod-server": {("8000", "api", "production"), ("8000", "personas", "mcp")},
    "dev-laptop": {
        ("8000", "api", "development"),
        ("8000", "personas", "mcp"),
        ("8010", "api", "development"),
        ("8010", "docker-api", "mcp"),
    },
}
WINDOW = (1400, 1800)


def orchestra() -> Workspace:
    return load_workspace(["examples/orchestra"], LoadOptions(environ={}, cwd=CWD))


def load(tmp_path: Path, files: dict[str, str]) -> Workspace:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return load_workspace(["."], LoadOptions(environ={}, cwd=str(tmp_path)))


# --- the view -----------------------------------------------------------------------------------


def test_orchestra_view_has_one_group_per_host() -> None:
    view = registry_view.build(orchestra())
    assert [g.title for g in view.groups] == ["prod-server", "dev-laptop"]
    assert view.unhosted == ()
    prod, dev = view.groups
    assert [m.title for m in prod.members] == ["production", "mcp", "monitoring"]
    assert [m.title for m in dev.members] == ["development", "mcp", "monitoring"]
    assert [(b.name, b.start, b.end) for b in prod.ranges] == [
        ("frontend", 3000, 3999),
        ("database", 5000, 5999),
        ("cache", 6000, 6999),
        ("api", 8000, 8999),
        ("monitoring", 9000, 9999),
    ]
    for group in view.groups:
        ports = [(r.start is None, r.start or 0) for r in group.rows]
        assert ports == sorted(ports)


def test_orchestra_view_conflicts_and_categories() -> None:
    view = registry_view.build(orchestra())
    for group in view.groups:
        found = {(r.published, r.service, r.stack) for r in group.rows if r.conflict}
        assert found == CONFLICTS[group.title]
    prod = view.groups[0]
    api = next(r for r in prod.rows if r.service == "api")
    assert api.peers == (Peer("personas", "mcp", "8000", "tcp", certain=True),)
    by_service = {r.service: r for r in prod.rows}
    # By the range that holds the port first, then by the service's name or image.
    assert by_service["postgres"].category == "database"
    # The config says nothing of nginx (443 is in no range): its well-known image shows it in
    # the config's range of the template's name for web services (policy.display_category).
    assert by_service["nginx"].category == "api"
    assert by_service["nginx"].outside is None  # display only: no rule judges it by that
    assert (by_service["loki"].category, by_service["loki"].service_category) == (
        "frontend",
        "monitoring",
    )
    assert by_service["docker-api"].container_port == 8000
    assert (by_service["api"].file, by_service["api"].line) == (
        str(SHARED / "examples/orchestra/docker-compose.production.yml"),
        35,
    )


def test_projects_on_no_host_get_their_own_group(tmp_path: Path) -> None:
    workspace = load(
        tmp_path,
        {
            "shop/compose.yaml": (
                "services:\n"
                "  web:\n"
                "    image: nginx\n"
                '    ports: ["8080:80", "8080:8080/udp"]\n'
                "  admin:\n"
                "    image: adminer\n"
                '    ports: ["127.0.0.1:8080:8080", "9000-9010:9000", "80"]\n'
                "  worker:\n"
                "    image: worker\n"
                "    deploy:\n"
                "      replicas: 2\n"
                '    ports: ["7000:7000", "9005:9005"]\n'
                "  relay:\n"
                "    image: relay\n"
                '    ports: ["7100-7102:7100-7102", "7103:7103"]\n'
            ),
            "blog/compose.yaml": 'services:\n  blog:\n    image: ghost\n    ports: ["8080:2368"]\n',
        },
    )
    view = registry_view.build(workspace)
    assert view.hosts == ()
    assert sorted(g.title for g in view.groups) == ["blog", "shop"]
    blog = next(g for g in view.groups if g.title == "blog")
    assert not blog.rows[0].conflict  # another project, and no host says they share a machine
    shop = next(g for g in view.groups if g.title == "shop")
    rows = {(r.published, r.protocol, r.service): r for r in shop.rows}
    # Within one stack: 0.0.0.0 and 127.0.0.1 collide, tcp and udp do not.
    assert rows["8080", "tcp", "web"].peers == (Peer("admin", "shop", "8080", "tcp", True),)
    assert not rows["8080", "udp", "web"].conflict
    assert rows["7000", "tcp", "worker"].peers == (
        Peer("worker", "shop", "7000", "tcp", True, itself=True),
    )
    pool = rows["9000-9010", "tcp", "admin"]
    assert (pool.start, pool.end, pool.peers[0].certain) == (9000, 9010, False)
    assert shop.rows[-1].published is None  # the ephemeral port comes last
    relay = [r for r in shop.rows if r.service == "relay"]
    assert sorted(p for r in relay for p in range(r.start, r.end + 1)) == [7100, 7101, 7102, 7103]

    # A written range is one flag on the axis; the entry beside it is another.
    flags = [
        f["label"]
        for s in parse(map_html.render(view, str(tmp_path))).sections.values()
        for f in s["flags"]
    ]
    assert sorted(f for f in flags if f.startswith("relay")) == ["relay 7100-7102", "relay 7103"]

    markdown = map_markdown.render(view, str(tmp_path))
    assert "## Stacks on no host" in markdown
    assert "### shop" in markdown and "### blog" in markdown
    assert "Files: `shop/compose.yaml`" in markdown
    assert "⚠ conflict with its own replicas" in markdown
    assert "⚠ pool overlap with worker (shop)" in markdown
    assert "| (ephemeral) | tcp | all | admin |" in markdown


# --- markdown -----------------------------------------------------------------------------------


def test_orchestra_markdown_snapshot(snapshot) -> None:
    snapshot.snapshot_dir = SNAPSHOTS
    markdown = map_markdown.render(registry_view.build(orchestra()), CWD)
    snapshot.assert_match(markdown, "orchestra.md")


def test_markdown_is_deterministic_and_marks_conflicts() -> None:
    first = map_markdown.render(registry_view.build(orchestra()), CWD)
    assert first == map_markdown.render(registry_view.build(orchestra()), CWD)
    assert not re.search(r"\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d", first)  # no date, no time
    assert str(SHARED) not in first  # paths relative to the current directory
    assert (
        "| **8010** | tcp | all | api | development | orchestra | 8000 | api · registry 8000 |  | "
        "`examples/orchestra/docker-compose.override.yml:11` | ⚠ conflict with docker-api (mcp) |"
    ) in first
    assert "Policy ranges (`examples/orchestra/.compose-ports.yaml`): `frontend` 3000-3999" in first


def test_orchestra_view_marks_what_strays_from_the_policy() -> None:
    prod, dev = registry_view.build(orchestra()).groups
    strays = {
        group.title: {(r.service, r.published): r for r in group.rows if r.strays}
        for group in (prod, dev)
    }
    # loki's 3100 leaves the monitoring range on both machines (CP201 says so everywhere)...
    for found in strays.values():
        assert found["loki", "3100"].outside == Band("monitoring", 9000, 9999)
    # ...and the registry, which speaks for prod-server alone, gives personas' 8000 to api.
    assert set(strays["prod-server"]) == {("loki", "3100"), ("personas", "8000")}
    assert strays["prod-server"]["personas", "8000"].registered_to == "api"
    assert set(strays["dev-laptop"]) == {("loki", "3100")}
    # The registered port is known on every machine; postgres's 5433 is no drift on dev-laptop.
    postgres = {r.published: r for r in dev.rows if r.service == "postgres"}
    assert (postgres["5433"].registered, postgres["5433"].drift) == (5432, False)


def test_registry_drift_and_range_marked_where_the_registry_speaks(tmp_path: Path) -> None:
    workspace = load(
        tmp_path,
        {
            ".git/HEAD": "",
            ".compose-ports.yaml": (
                "stacks:\n  app: [compose.yaml]\n"
                "hosts:\n  prod: [app]\n  laptop: [app]\n"
                "ranges:\n  db: {ports: 5000-5999, services: [db]}\n"
                "registry:\n  hosts: [prod]\n  ports: {db: 5432, web: 8080}\n"
            ),
            "compose.yaml": (
                "services:\n"
                '  db:\n    image: postgres\n    ports: ["6432:5432"]\n'
                '  web:\n    image: nginx\n    ports: ["8080:80", "8443:443"]\n'
            ),
        },
    )
    view = registry_view.build(workspace)
    prod = next(g for g in view.groups if g.title == "prod")
    laptop = next(g for g in view.groups if g.title == "laptop")
    db = next(r for r in prod.rows if r.service == "db")
    assert (db.drift, db.registered, db.outside) == (True, 5432, Band("db", 5000, 5999))
    # web holds its registered 8080, so its 8443 is not drift (CP204 judges the service).
    assert not any(r.strays for r in prod.rows if r.service == "web")
    # On laptop the registry says nothing; the range still does.
    db_laptop = next(r for r in laptop.rows if r.service == "db")
    assert (db_laptop.drift, db_laptop.registered, db_laptop.outside is not None) == (
        False,
        5432,
        True,
    )

    markdown = map_markdown.render(view, str(tmp_path))
    assert (
        "| *6432* | tcp | all | db | app | "
        f"{tmp_path.name.lower()} | 5432 | db · registry 5432 |  | `compose.yaml:4` | "
        "⚠ outside the db range 5000-5999; ⚠ not its registered port 5432 |"
    ) in markdown
    assert markdown.count("⚠ *1 port strays from the policy*") == 2

    page = parse(map_html.render(view, str(tmp_path)))
    section = section_of(page, "prod")
    [row] = [r for r in section["rows"] if r["cells"][3] == "db"]
    # (The cells' text as the parser joins it: the chip, then the line under it.)
    assert row["cells"][7] == "dbregistry 5432"
    assert row["cells"][10] == "⚠ outside the db range 5000-5999⚠ not its registered port 5432"
    # On the picture: the flag carries the warning sign, and a ring marks the registered port.
    [flag] = [f for f in section["flags"] if f["label"] == "db 6432"]
    assert map_html.STRAY in flag["colours"] and not flag["conflict"]
    page_text = map_html.render(view, str(tmp_path))
    assert page_text.count('class="registered"') == 1  # on prod only: laptop has no drift
    assert "registered: 5432" in page_text  # the tooltip, on both machines


# --- html ---------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """What the tests read of the page: per section, its title, its table rows and its flags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, dict] = {}
        self.urls: list[str] = []
        self.tags: Counter[str] = Counter()
        self._section: dict | None = None
        self._row: dict | None = None
        self._cell: list[str] | None = None
        self._flag: dict | None = None
        self._in_h2 = False
        self._in_label = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags[tag] += 1
        for name, value in attrs:
            if name in ("href", "src", "action", "xlink:href") and value:
                self.urls.append(value)
        classes = (a.get("class") or "").split()
        if tag == "section":
            self._section = {"title": "", "rows": [], "flags": []}
            self.sections[a["id"] or ""] = self._section
        elif tag == "h2":
            self._in_h2 = True
        elif tag == "tr" and self._section is not None and a.get("id"):
            self._row = {"cells": [], "conflict": "conflict" in classes}
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "g" and "flag" in classes and self._section is not None:
            self._flag = {"conflict": "conflict" in classes, "colours": set(), "label": None}
        if self._flag is not None:
            for key in ("fill", "stroke"):
                if a.get(key) and a[key] != "#fff":
                    self._flag["colours"].add(a[key])
            if tag == "text":
                self._in_label = True
                self._flag["label"] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False
        elif tag == "td" and self._row is not None and self._cell is not None:
            self._row["cells"].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._section is not None:
            self._section["rows"].append(self._row)
            self._row = None
        elif tag == "text":
            self._in_label = False
        elif tag == "g" and self._flag is not None and self._section is not None:
            self._section["flags"].append(self._flag)
            self._flag = None

    def handle_data(self, data: str) -> None:
        if self._in_h2 and self._section is not None:
            self._section["title"] += data
        if self._cell is not None:
            self._cell.append(data)
        if self._in_label and self._flag is not None:
            self._flag["label"] += data


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def section_of(page: _Page, title: str) -> dict:
    # The h2 reads "host prod-server 18 bindings ...": the title is its second word.
    return next(s for s in page.sections.values() if s["title"].split()[1] == title)


def test_html_table_lists_every_binding_of_every_project() -> None:
    workspace = orchestra()
    page = parse(map_html.render(registry_view.build(workspace), CWD))
    hosts = workspace.hosts()
    assert {host for _, host in hosts} == {"prod-server", "dev-laptop"}
    for (_, host), projects in hosts.items():
        expected = Counter(
            (
                b.spec.published,
                b.spec.protocol,
                b.spec.host_ip or "all",
                b.service,
                p.stack,
                p.name,
                str(b.spec.target),
                f"{Path(b.source.file).relative_to(SHARED).as_posix()}:{b.source.line}",
            )
            for p in projects
            for b in p.bindings
        )
        rows = section_of(page, host)["rows"]
        shown = Counter((*r["cells"][:7], r["cells"][9]) for r in rows)
        assert shown == expected, host
    every = {(b.service, p.stack) for p in workspace.projects for b in p.bindings}
    listed = {(r["cells"][3], r["cells"][4]) for s in page.sections.values() for r in s["rows"]}
    assert every <= listed


def test_html_is_self_contained() -> None:
    page_text = map_html.render(registry_view.build(orchestra()), CWD)
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", page_text, re.IGNORECASE)
    assert "url(" not in page_text and "@import" not in page_text
    page = parse(page_text)
    assert all(url.startswith("#") for url in page.urls), page.urls  # in-page links only
    for tag in ("script", "link", "img", "iframe", "object", "embed"):
        assert page.tags[tag] == 0, tag
    assert page.tags["svg"] == 2 and page.tags["style"] == 1


def test_html_tooltips_break_lines_and_escape_only_the_values() -> None:
    page_text = map_html.render(registry_view.build(orchestra()), CWD)
    titles = re.findall(r"<title>(.*?)</title>", page_text, re.DOTALL)
    tooltips = [t for t in titles if "category:" in t]
    assert tooltips, titles
    # The lines of a tooltip are separate lines: escaping is for a break inside a value.
    assert all("\\x0a" not in t for t in tooltips)
    assert all(len(t.split("\n")) >= 4 for t in tooltips)
    loki = next(t for t in tooltips if t.startswith("loki "))
    assert loki.split("\n")[1] == "*:3100 -&gt; container 3100/tcp"


def test_html_marks_conflicts_red() -> None:
    page = parse(map_html.render(registry_view.build(orchestra()), CWD))
    for host, conflicts in CONFLICTS.items():
        section = section_of(page, host)
        red_rows = {
            (r["cells"][0], r["cells"][3], r["cells"][4]) for r in section["rows"] if r["conflict"]
        }
        assert red_rows == conflicts
        # Each port in conflict is one flag: its first services, the port and the count.
        red_flags = {f["label"] for f in section["flags"] if map_html.RED in f["colours"]}
        ports = Counter(port for port, _, _ in conflicts)
        assert {tuple(label.rsplit(" ", 2)[1:]) for label in red_flags} == {
            (port, f"\u00d7{count}") for port, count in ports.items()
        }
        for label in red_flags:
            names, port, _ = label.rsplit(" ", 2)
            assert set(names.split(", ")) == {s for p, s, _ in conflicts if p == port}
        assert all(f["conflict"] == (map_html.RED in f["colours"]) for f in section["flags"])
        # Every binding of the host is on the axis: a flag of its own, or counted in a crowd's.
        shown = sum(
            int(f["label"].rsplit("\u00d7", 1)[1]) if f["conflict"] else 1 for f in section["flags"]
        )
        assert shown == len(section["rows"])
    style = page_text_style(map_html.render(registry_view.build(orchestra()), CWD))
    assert f"--red: {map_html.RED}" in style
    assert re.search(r"tr\.conflict td\.port[^{]*\{[^}]*var\(--red\)", style)


def page_text_style(page: str) -> str:
    return page[page.index("<style>") : page.index("</style>")]


def test_html_escapes_everything() -> None:
    evil = "<script>alert('x')</script>&\""
    row = Row(
        published="8000",
        start=8000,
        end=8000,
        protocol="tcp",
        host_ip=None,
        service=evil,
        stack=evil,
        project=evil,
        container_port=80,
        container_end=80,
        category=evil,
        service_category=None,
        variable=evil,
        file=f"/x/{evil}.yaml",
        line=1,
        column=1,
        peers=(Peer(evil, evil, "8000", "tcp", True),),
    )
    group = HostGroup(
        title=evil,
        host=evil,
        config=f"/x/{evil}",
        members=(Member(evil, evil, "/x", (f"/x/{evil}.yaml",)),),
        ranges=(Band(evil, 8000, 8999),),
        rows=(row,),
    )
    page = map_html.render(RegistryView((group,)), "/x")
    assert "<script" not in page and "alert('x')" not in page
    assert "&lt;script&gt;" in page
    markdown = map_markdown.render(RegistryView((group,)), "/x")
    assert "| 8000 |" not in markdown and "**8000**" in markdown


# --- the page in a browser ----------------------------------------------------------------------


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Chromium is missing: install it with `apt-get install -y chromium`")


def screenshot(page: Path, out: Path, profile: Path) -> None:
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={out}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        page.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert out.is_file(), f"no screenshot ({result.returncode}): {result.stderr[-2000:]}"


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced truecolour PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, b""
    width = height = colour_type = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, interlace) == (8, 0) and colour_type in (2, 6)
        elif kind == b"IDAT":
            chunks += body
    raw = zlib.decompress(chunks)
    bpp = 3 if colour_type == 2 else 4
    stride = width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line) if bpp == 3 else bytes(v for i, v in enumerate(line) if i % 4 != 3))
        previous = line
    return width, height, rows


def test_html_renders_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "registry.html"
    page.write_text(map_html.render(registry_view.build(orchestra()), CWD), encoding="utf-8")
    out = tmp_path / "registry.png"
    screenshot(page, out, tmp_path / "profile")
    width, height, rows = read_png(out)
    assert (width, height) == WINDOW
    colours: Counter[bytes] = Counter()
    red_rows = 0
    for row in rows[::2]:  # every other line is plenty to tell a page from a blank one
        pixels = [row[i : i + 3] for i in range(0, len(row), 3)]
        colours.update(pixels)
        if any(r > 180 and g < 80 and b < 80 for r, g, b in pixels):
            red_rows += 1
    _, share = colours.most_common(1)[0]
    assert share < 0.9 * sum(colours.values()), "the page is one colour"
    assert len(colours) > 200, f"only {len(colours)} colours: nothing drawn?"
    # Red is the conflicts' colour alone: flags, table rows and badges must show some.
    assert red_rows > 20, f"red on {red_rows} lines only"
