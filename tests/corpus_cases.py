"""The shared corpus: real compose projects with what Docker Compose v2.40.3 made of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from conftest import CORPUS


@dataclass(frozen=True)
class Case:
    name: str
    directory: Path
    argv: tuple[str, ...]  # the global options given to the binary, before `config`
    env: dict[str, str]
    expected: list[dict] | dict
    stubs: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return isinstance(self.expected, list)

    def options(self) -> dict:
        """The argv as LoadOptions keywords."""
        files: list[str] = []
        env_files: list[str] = []
        profiles: list[str] = []
        result: dict = {}
        args = list(self.argv)
        while args:
            flag = args.pop(0)
            value = args.pop(0)
            if flag == "-f":
                files.append(value)
            elif flag == "--env-file":
                env_files.append(value)
            elif flag == "--profile":
                profiles.append(value)
            elif flag == "-p":
                result["project_name"] = value
            elif flag == "--project-directory":
                result["project_directory"] = value
            else:
                raise ValueError(f"unexpected option {flag} in {self.name}")
        return {
            **result,
            "files": tuple(files),
            "env_files": tuple(env_files),
            "profiles": tuple(profiles),
            "environ": dict(self.env),
            "cwd": str(self.directory),
        }


def cases() -> list[Case]:
    result = []
    for directory in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        meta = json.loads((directory / "expected_meta.json").read_text())
        argv = meta["argv"][1:]
        argv = argv[: argv.index("config")]
        result.append(
            Case(
                directory.name,
                directory,
                tuple(argv),
                dict(meta.get("env") or {}),
                json.loads((directory / "expected.json").read_text()),
                tuple(meta.get("stubbed_env_files") or ()),
            )
        )
    return result
