"""Everyday use outside the terminal: the GitHub Action, its sample workflow, shell completion.

The action and the workflow are checked against GitHub's schemas as CI checks them
(`check-jsonschema --builtin-schema`, whose schemas ship inside the package: no network), and
the action's own shell steps are run here as a runner would run them, on a real repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "examples" / "github-workflow.yml"
BIN = Path(sys.executable).parent  # compose-ports and check-jsonschema, as installed with it


def _check_jsonschema(schema: str, file: Path) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("check-jsonschema", path=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    assert executable, "check-jsonschema comes with the test extra (pyproject.toml)"
    return subprocess.run(
        [executable, "--builtin-schema", schema, str(file)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return action


def _step(step_id_or_name: str) -> dict[str, Any]:
    for step in _action()["runs"]["steps"]:
        if step_id_or_name in (step.get("id"), step.get("name")):
            return step  # type: ignore[no-any-return]
    raise AssertionError(f"no step {step_id_or_name!r} in action.yml")


@pytest.mark.parametrize(
    ("schema", "file"),
    [("vendor.github-actions", ACTION), ("vendor.github-workflows", WORKFLOW)],
)
def test_valid_against_githubs_schema(schema: str, file: Path) -> None:
    result = _check_jsonschema(schema, file)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_action(tmp_path: Path) -> None:
    """The check has teeth: a composite `run` step without its `shell` is refused."""
    action = _action()
    del action["runs"]["steps"][1]["shell"]
    broken = tmp_path / "action.yml"
    broken.write_text(yaml.safe_dump(action))
    assert _check_jsonschema("vendor.github-actions", broken).returncode == 1


def test_the_workflow_uses_the_action_with_its_inputs() -> None:
    inputs = _action()["inputs"]
    assert {"paths", "config", "fail-on"} <= set(inputs)
    assert _action()["runs"]["using"] == "composite"
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["ports"]["steps"]
    used = [s for s in steps if str(s.get("uses", "")).split("@")[0].endswith("/compose-ports")]
    assert len(used) == 1
    assert set(used[0]["with"]) <= set(inputs)
    if used[0]["with"].get("report") == "sarif":
        permissions = yaml.safe_load(WORKFLOW.read_text())["permissions"]
        assert permissions["security-events"] == "write"


def _repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "compose.yaml").write_text(
        'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'
        '  api:\n    image: api\n    ports: ["8080:8000"]\n'
    )
    return repo


def _run_step(
    name: str, repo: Path, tmp_path: Path, **inputs: str
) -> tuple[int, str, dict[str, str]]:
    """One of the action's shell steps, as the runner runs it: its `env:` with the inputs put
    in, `bash -e` on its script, GITHUB_OUTPUT collected."""
    step = _step(name)
    defaults = {k: str(v.get("default", "")) for k, v in _action()["inputs"].items()}
    given = {**defaults, **inputs}
    output = tmp_path / f"output-{name.replace(' ', '-')}"
    output.write_text("")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(tmp_path),
        "NO_COLOR": "1",
    }
    for key, value in (step.get("env") or {}).items():
        for input_name, input_value in given.items():
            value = value.replace(f"${{{{ inputs.{input_name} }}}}", input_value)
        env[key] = value
    script = step["run"]
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return done.returncode, done.stdout + done.stderr, outputs


def test_the_lint_step_annotates_and_hands_on_its_exit_code(tmp_path: Path) -> None:
    repo = _repository(tmp_path)
    code, output, outputs = _run_step("lint", repo, tmp_path)
    assert code == 0, output  # the step records the exit code; a later step fails on it
    assert outputs["exit-code"] == "1"
    assert "::error file=compose.yaml,line=7,col=13" in output, output
    assert "sarif-file" not in outputs


def test_the_lint_step_writes_sarif_for_the_upload(tmp_path: Path) -> None:
    repo = _repository(tmp_path)
    code, output, outputs = _run_step(
        "lint", repo, tmp_path, report="sarif", **{"fail-on": "error"}
    )
    assert code == 0, output
    assert outputs["exit-code"] == "1"
    report = json.loads(Path(outputs["sarif-file"]).read_text())
    assert report["version"] == "2.1.0"
    assert "CP101" in {r["ruleId"] for r in report["runs"][0]["results"]}


def test_the_lint_step_passes_paths_config_and_fail_on(tmp_path: Path) -> None:
    repo = _repository(tmp_path)
    (repo / "other").mkdir()
    (repo / "other" / "compose.yaml").write_text('services:\n  x:\n    ports: ["9000:9000"]\n')
    (repo / "policy.yaml").write_text("rules:\n  host-port-conflict: off\n")
    code, output, outputs = _run_step(
        "lint", repo, tmp_path, paths="other\n compose.yaml", config="policy.yaml"
    )
    assert outputs["exit-code"] == "0", output  # the conflict's rule is off in that config
    code, output, outputs = _run_step("lint", repo, tmp_path, **{"fail-on": "never"})
    assert outputs["exit-code"] == "0", output
    assert "::error" in output  # reported all the same
    code, output, _ = _run_step("lint", repo, tmp_path, report="html")
    assert code == 2 and "report must be annotations or sarif" in output


@pytest.mark.parametrize("exit_code", ["0", "1", "2"])
def test_the_last_step_fails_on_the_recorded_exit_code(tmp_path: Path, exit_code: str) -> None:
    step = _step("Fail on findings")
    assert step["env"]["CODE"] == "${{ steps.lint.outputs.exit-code }}"
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-c", step["run"]],
        env={**os.environ, "CODE": exit_code},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == int(exit_code)


def test_sarif_is_uploaded_only_when_there_is_a_report() -> None:
    upload = _step("Upload the SARIF report to code scanning")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ steps.lint.outputs.sarif-file }}"
    assert "steps.lint.outputs.sarif-file" in upload["if"]


# -- shell completion (README: "Shell completion") ----------------------------------------------


def _compose_ports(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "compose-ports")],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _compose_ports_completion compose-ports"),
        ("zsh", "compdef _compose_ports_completion compose-ports"),
        ("fish", "complete --no-files --command compose-ports"),
    ],
)
def test_completion_scripts(shell: str, marker: str) -> None:
    done = _compose_ports({"_COMPOSE_PORTS_COMPLETE": f"{shell}_source"})
    assert done.returncode == 0, done.stderr
    assert marker in done.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is on every CI machine")
def test_bash_completes_commands_and_choices() -> None:
    """The README's `eval "$(_COMPOSE_PORTS_COMPLETE=bash_source compose-ports)"`, then what
    bash asks for on a tab."""
    script = """
    eval "$(_COMPOSE_PORTS_COMPLETE=bash_source compose-ports)"
    ask() { COMPREPLY=(); COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
            _compose_ports_completion compose-ports; echo "${COMPREPLY[*]}"; }
    ask compose-ports in
    ask compose-ports lint --fail-on ""
    ask compose-ports init --ranges ""
    """
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["init", "error warning info", "standard none"]
