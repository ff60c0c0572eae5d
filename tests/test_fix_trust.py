"""`fix` you can run blindly: the issue's reproductions, each judged by Docker Compose itself.

Every test builds a small repository, asks the real binary what each project publishes, runs
`compose-ports fix`, and asks again: unchanged, or changed exactly as the fixed findings say.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from oracle import compose_config, compose_ports

from compose_ports.commands import main


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("COMPOSE_", "DOCKER_")) or "PORT" in name.upper():
            monkeypatch.delenv(name)


def repository(root: Path, files: dict[str, str]) -> Path:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def cli(monkeypatch: pytest.MonkeyPatch, cwd: Path, *args: str) -> Result:
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def publishes(cwd: Path, *args: str, env: dict[str, str] | None = None) -> list[tuple]:
    answer = compose_config(cwd, list(args), env)
    assert answer.ok, answer.error
    assert answer.config is not None
    return sorted(
        (p["service"], p.get("host_ip", ""), p.get("published", ""), p["target"], p["protocol"])
        for p in compose_ports(answer.config)
    )


def texts(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


# -- 1. --remap fixes what lint reports, nothing else ------------------------------------------


@pytest.mark.parametrize("entry", ['["5432"]', "\n      - target: 5432"])
def test_remap_leaves_an_override_entry_no_finding_flags(
    entry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repository(
        tmp_path,
        {
            "compose.yaml": 'services:\n  db:\n    image: postgres\n    ports: ["5432:5432"]\n',
            "compose.override.yaml": f"services:\n  db:\n    ports: {entry}\n",
        },
    )
    before = publishes(root)
    assert ("db", "", "5432", 5432, "tcp") in before
    report = json.loads(cli(monkeypatch, root, "lint", "--format", "json").stdout)
    assert not [f for f in report["findings"] if f["file"] == "compose.override.yaml"]
    override = (root / "compose.override.yaml").read_text()
    result = cli(monkeypatch, root, "fix", "--remap")
    assert result.exit_code in (0, 1), result.output
    assert (root / "compose.override.yaml").read_text() == override
    assert publishes(root) == before


def test_remap_honours_suppressions_and_rules_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = 'services:\n  db:\n    image: postgres\n    ports: ["5432:5432"]\n'
    root = repository(
        tmp_path / "a",
        {
            "compose.yaml": base,
            "compose.override.yaml": (
                'services:\n  db:\n    ports: ["5433:5432"]  # compose-ports: ignore[CP103]\n'
            ),
        },
    )
    other = repository(
        tmp_path / "b",
        {
            "compose.yaml": base,
            "compose.override.yaml": 'services:\n  db:\n    ports: ["5433:5432"]\n',
            ".compose-ports.yaml": "rules:\n  override-appends-ports: off\n",
        },
    )
    for directory in (root, other):
        result = cli(monkeypatch, directory, "fix", "--remap")
        assert result.exit_code == 1, result.output  # the CP301 renames only
        assert "!override" not in (directory / "compose.override.yaml").read_text()
        assert [p for _, _, p, _, _ in publishes(directory)] == ["5432", "5433"]


# -- 2. a trigger file read by another project ----------------------------------------------------


@pytest.mark.parametrize("reach", ["extends", "include"])
@pytest.mark.parametrize("args", [("shared/compose.yaml",), (".",)])
def test_a_name_another_project_defines_is_never_given(
    reach: str, args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = (
        "services:\n  web:\n    extends: {file: ../shared/compose.yaml, service: web}\n"
        if reach == "extends"
        else "include:\n  - ../shared/compose.yaml\n"
    )
    root = repository(
        tmp_path,
        {
            "shared/compose.yaml": 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n',
            "app/compose.yaml": app,
            "app/.env": "WEB_PORT=9999\n",
        },
    )
    app_before = publishes(root / "app")
    shared_before = publishes(root / "shared")
    result = cli(monkeypatch, root, "fix", *args)
    assert result.exit_code == 1, result.output
    assert '"${WEB_PORT_2:-8080}:80"' in (root / "shared/compose.yaml").read_text()
    assert publishes(root / "app") == app_before
    assert publishes(root / "shared") == shared_before


# -- 3. duplicates share their variable ----------------------------------------------------------


def test_entries_compose_merges_share_the_new_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repository(
        tmp_path,
        {
            "compose.yaml": (
                "services:\n  haproxy:\n    image: haproxy\n    ports:\n"
                '      - "127.0.0.1:8404:8404"\n'
                '      - "${PRIVATE_IP:-127.0.0.1}:8404:8404"\n'
            )
        },
    )
    before = publishes(root)
    assert len(before) == 1
    assert cli(monkeypatch, root, "fix").exit_code == 1
    text = (root / "compose.yaml").read_text()
    assert text.count("${HAPROXY_PORT:-8404}") == 2, text
    assert publishes(root) == before
    # Setting the variable moves the one port; it does not add a second.
    assert publishes(root, env={"HAPROXY_PORT": "9404"}) == [
        ("haproxy", "127.0.0.1", "9404", 8404, "tcp")
    ]


def test_a_duplicate_in_a_file_the_run_does_not_edit_keeps_both_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'
    override = 'services:\n  web:\n    ports: ["8080:80"]\n'
    root = repository(tmp_path, {"compose.yaml": base, "compose.override.yaml": override})
    result = cli(monkeypatch, root, "fix", "compose.override.yaml")
    assert (root / "compose.override.yaml").read_text() == override
    assert "repeats the entry at" in result.stderr
    assert cli(monkeypatch, root, "fix").exit_code == 1
    assert publishes(root, env={"WEB_PORT": "9090"}) == [("web", "", "9090", 80, "tcp")]


# -- 4. refusals where fix should succeed ----------------------------------------------------------


def test_remap_resolves_a_conflict_the_override_drop_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repository(
        tmp_path,
        {
            "compose.yaml": (
                'services:\n  s0:\n    image: postgres\n    ports: ["5000:5432"]\n'
                '  s1:\n    image: postgres\n    ports: ["5000:5432"]\n'
            ),
            "compose.override.yaml": (
                'services:\n  s0:\n    ports: ["5000:5432"]\n  s1:\n    ports: ["5001:5432"]\n'
            ),
        },
    )
    result = cli(monkeypatch, root, "fix", "--remap")
    assert result.exit_code == 1, result.output
    assert "\0" not in result.output and "^@" not in result.output
    assert sorted((s, p) for s, _, p, _, _ in publishes(root)) == [("s0", "5000"), ("s1", "5001")]


def test_an_included_projects_env_names_are_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repository(
        tmp_path,
        {
            "compose.yaml": (
                "include:\n  - sub/compose.yaml\nservices:\n  api:\n    image: api\n"
                '    ports: ["8000:8000"]\n'
            ),
            "sub/compose.yaml": (
                'services:\n  db:\n    image: postgres\n    ports: ["${API_PORT:-5432}:5432"]\n'
            ),
            "sub/.env": "API_PORT=5433\n",
        },
    )
    before = publishes(root, "-f", "compose.yaml")
    result = cli(monkeypatch, root, "fix", "-f", "compose.yaml")
    assert result.exit_code == 1, result.output
    assert '"${API_PORT_2:-8000}:8000"' in (root / "compose.yaml").read_text()
    assert publishes(root, "-f", "compose.yaml") == before


def test_remap_copies_a_long_entry_with_every_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repository(
        tmp_path,
        {
            "compose.yaml": (
                "services:\n  web:\n    image: nginx\n    ports:\n"
                '      - "8080:80"\n'
                "      - target: 443\n"
                "        published: 8443\n"
                "        name: https\n"
                "        app_protocol: https\n"
                "        x-note: kept\n"
            ),
            "compose.override.yaml": 'services:\n  web:\n    ports: ["9080:80"]\n',
            ".compose-ports.yaml": "rules:\n  hardcoded-host-port: off\n",
        },
    )
    before = compose_config(root)
    result = cli(monkeypatch, root, "fix", "--remap")
    assert result.exit_code == 1, result.output
    after = compose_config(root)
    assert after.ok, after.error
    want = [
        p for p in compose_ports(before.config) if p["target"] != 80 or p["published"] != "8080"
    ]
    assert sorted(map(str, compose_ports(after.config))) == sorted(map(str, want))


def test_remap_appends_to_a_flow_list_with_a_trailing_comma_and_comment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repository(
        tmp_path,
        {
            "compose.yaml": (
                'services:\n  web:\n    image: nginx\n    ports: ["8000:80", "8443:443"]\n'
            ),
            "compose.override.yaml": (
                'services:\n  web:\n    ports: [\n      "8001:80", # dev\n    ]\n'
            ),
            ".compose-ports.yaml": "rules:\n  hardcoded-host-port: off\n",
        },
    )
    result = cli(monkeypatch, root, "fix", "--remap")
    assert result.exit_code == 1, result.output
    assert (root / "compose.override.yaml").read_text() == (
        'services:\n  web:\n    ports: !override [\n      "8001:80", "8443:443", # dev\n    ]\n'
    )
    assert sorted(p for _, _, p, _, _ in publishes(root)) == ["8001", "8443"]


# -- 5. writes: what is left alone, with one line, and the rest still fixed ------------------------


def test_a_compose_file_linked_outside_the_repository_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "elsewhere" / "compose.yaml"
    outside.parent.mkdir()
    text = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'
    outside.write_text(text)
    root = repository(tmp_path / "repo", {"mine/compose.yaml": text})
    (root / "theirs").mkdir()
    (root / "theirs" / "compose.yaml").symlink_to(outside)
    result = cli(monkeypatch, root, "fix")
    assert result.exit_code == 2
    assert outside.read_text() == text
    lines = [line for line in result.stderr.splitlines() if "theirs/compose.yaml" in line]
    assert len(lines) == 1 and "outside the repository" in lines[0], result.stderr
    assert "${WEB_PORT:-8080}" in (root / "mine/compose.yaml").read_text()


def test_env_writes_nowhere_outside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repository(
        tmp_path / "repo",
        {
            "compose.yaml": 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n',
            ".compose-ports.yaml": (
                "stacks:\n  main: [compose.yaml]\nhosts:\n  box: [main]\n"
                "env:\n  environments:\n    dev: {offset: 1, file: ../../x.env}\n"
            ),
        },
    )
    result = cli(monkeypatch, root, "env", "--host", "box", "--environment", "dev")
    assert result.exit_code == 2
    assert "outside the repository" in result.stderr
    assert not (tmp_path.parent / "x.env").exists()


# -- 7. all or nothing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "problem", ["unterminated .env", "utf-16 env file", "env file is a directory", "missing dir"]
)
def test_a_bad_input_writes_nothing(
    problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repository(
        tmp_path,
        {
            "a/compose.yaml": 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n',
            "b/compose.yaml": 'services:\n  api:\n    image: api\n    ports: ["8000:8000"]\n',
        },
    )
    args = ["fix", "."]
    if problem == "unterminated .env":
        (root / "b" / ".env").write_text('X="never closed\n')
    elif problem == "utf-16 env file":
        (root / "shared.env").write_bytes("A=1\n".encode("utf-16"))
        args += ["--env-file", "shared.env"]
    elif problem == "env file is a directory":
        (root / "shared.env").mkdir()
        args += ["--env-file", "shared.env"]
    else:
        args += ["--env-file", "nowhere/shared.env"]
    before = texts(root)
    result = cli(monkeypatch, root, *args)
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert texts(root) == before


# -- the hints and the findings fix works from ---------------------------------------------------


def test_each_hint_names_the_command_that_fixes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repository(
        tmp_path,
        {
            "compose.yaml": 'services:\n  db:\n    image: postgres\n    ports: ["5432:5432"]\n',
            "compose.override.yaml": 'services:\n  db:\n    ports: ["5433:5432"]\n',
        },
    )
    assert cli(monkeypatch, root, "fix").exit_code == 1
    lint = cli(monkeypatch, root, "lint")
    assert "CP103 [fix --remap] warning" in lint.stdout
    assert "[fix --remap] 1 with `compose-ports fix --remap`" not in lint.stdout
    assert lint.stdout.rstrip().endswith(
        "[fix --remap] 1 fixable with `compose-ports fix --remap`."
    )
    assert cli(monkeypatch, root, "fix").exit_code == 0
    assert cli(monkeypatch, root, "fix", "--remap").exit_code == 1
    assert "[fix" not in cli(monkeypatch, root, "lint").stdout


def test_fix_quotes_only_what_yaml_1_1_misreads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repository(
        tmp_path,
        {
            "compose.yaml": (
                "services:\n  ssh:\n    image: sshd\n    ports:\n"
                "      - 22:22\n      - 2222:22\n      - 8080:8080/tcp\n"
                "      - 127.0.0.1:4317:4317\n      - ${PORT:-80}:80\n"
            ),
            ".compose-ports.yaml": "rules:\n  hardcoded-host-port: off\n",
        },
    )
    lint = json.loads(cli(monkeypatch, root, "lint", "--format", "json").stdout)
    messages = [f["message"] for f in lint["findings"] if f["code"] == "CP302"]
    assert messages == [
        "unquoted 22:22: YAML 1.1 tools read it as the number 1342; quote it",
        "unquoted 2222:22: YAML 1.1 tools read it as the number 133342; quote it",
    ]
    before = publishes(root)
    assert cli(monkeypatch, root, "fix").exit_code == 1
    assert (root / "compose.yaml").read_text().splitlines()[4:] == [
        '      - "22:22"',
        '      - "2222:22"',
        "      - 8080:8080/tcp",
        "      - 127.0.0.1:4317:4317",
        "      - ${PORT:-80}:80",
    ]
    assert publishes(root) == before


# -- 6. concurrent writers lose nothing -----------------------------------------------------------


def _projects(root: Path, count: int) -> list[Path]:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    files = []
    for index in range(count):
        path = root / f"p{index:03d}" / "compose.yaml"
        path.parent.mkdir()
        path.write_text(
            f'services:\n  web{index}:\n    image: nginx\n    ports: ["{10000 + index}:80"]\n'
        )
        files.append(path)
    return files


def _fix(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if "PORT" not in k.upper()}
    return subprocess.Popen(
        [sys.executable, "-m", "compose_ports", "fix", ".", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_line_appended_while_fix_runs_is_never_lost(tmp_path: Path) -> None:
    """Another process waits until `fix .` has rewritten its first file, then appends a line to
    every file: each file keeps that line, whether fix reports it fixed or not."""
    files = _projects(tmp_path, 300)
    before = {f: f.read_text() for f in files}
    fixer = _fix(tmp_path)
    while fixer.poll() is None and all(f.read_text() == before[f] for f in files[:5]):
        time.sleep(0.001)
    for path in files:
        with path.open("a") as handle:
            handle.write("# theirs\n")
    out, err = fixer.communicate(timeout=120)
    assert fixer.returncode in (1, 2), err
    assert "internal error" not in err
    fixed = {line.removeprefix("fixed ") for line in out.splitlines()}
    for path in files:
        text = path.read_text()
        assert text.endswith("# theirs\n"), (path, text)
        shown = path.relative_to(tmp_path).as_posix()
        if shown in fixed and "${" not in text:
            raise AssertionError(f"{shown} reported fixed but holds {text!r}")


def test_two_fix_runs_define_every_variable_once(tmp_path: Path) -> None:
    """Two `fix . --env-file shared.env` at once, the env file not there yet: every variable the
    compose files use is defined in it exactly once."""
    _projects(tmp_path, 120)
    first, second = (
        _fix(tmp_path, "--env-file", "shared.env"),
        _fix(tmp_path, "--env-file", "shared.env"),
    )
    for process in (first, second):
        _, err = process.communicate(timeout=180)
        assert process.returncode in (1, 2), err
        assert "internal error" not in err
    used = {
        m["name"]
        for path in tmp_path.rglob("compose.yaml")
        for m in re.finditer(r"\$\{(?P<name>[A-Z0-9_]+):-", path.read_text())
    }
    assert len(used) == 120
    defined = [line.split("=", 1)[0] for line in (tmp_path / "shared.env").read_text().splitlines()]
    assert sorted(defined) == sorted(used)


def _many_stacks(root: Path, count: int) -> None:
    (root / ".git").mkdir()
    for n in range(count):
        stack = root / f"s{n:02d}"
        stack.mkdir()
        (stack / "compose.yaml").write_text(
            f'services:\n  web:\n    image: nginx\n    ports: ["{8000 + n}:80"]\n'
        )


@pytest.mark.parametrize("threshold", [1, 10_000], ids=["forked", "serial"])
def test_the_proof_says_the_same_in_a_forked_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int
) -> None:
    # The readers' proofs run in two processes on a monorepo: what they find is what one
    # process finds, in the same order, a broken proof included.
    from compose_ports.compose.loading import LoadOptions
    from compose_ports.fix import proof
    from compose_ports.fix.pipeline import FixRequest, run

    _many_stacks(tmp_path, 20)
    monkeypatch.setattr(proof, "_PARALLEL_FROM", threshold)
    request = FixRequest((str(tmp_path),), LoadOptions(cwd=str(tmp_path)), write=False)
    outcome = run(request)
    assert outcome.errors == []
    assert len(outcome.planned) == 20
    assert all("${WEB_PORT" in new for _, new in outcome.planned.values())

    real_compare = proof._compare

    def wrong_for_s07(reader, after, expected, shifts):  # type: ignore[no-untyped-def]
        if "/s07/" in reader.project.files[0]:
            return "it would publish 1->1/tcp of web"
        return real_compare(reader, after, expected, shifts)

    monkeypatch.setattr(proof, "_compare", wrong_for_s07)
    broken = run(request)
    assert len(broken.errors) == 1
    assert "s07" in broken.errors[0] and "it would publish 1->1/tcp of web" in broken.errors[0]
