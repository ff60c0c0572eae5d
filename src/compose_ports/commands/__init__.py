"""The command line: `compose-ports init|map|lint|fix|check|audit|env|suggest|rules|explain`.

One thin module per command: it parses the options, calls one pipeline and picks a reporter;
what every command shares is in common. A command's module is imported only when the command
runs (or `--help` lists them all), so one-file lint imports lint's alone.

Exit codes follow ruff: 0 clean, 1 findings (or files changed by fix), 2 usage, config, read and
internal errors.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from compose_ports import __version__
from compose_ports.commands.common import EXIT_ERROR, emit

# Command name -> the module that defines it (as `command`).
COMMANDS = {
    "init": "init",
    "map": "map",
    "lint": "lint",
    "fix": "fix",
    "check": "check",
    "audit": "audit",
    "env": "env",
    "suggest": "suggest",
    "rules": "rules",
    "explain": "rules",
}


class _Lazy(click.Group):
    """Commands imported when asked for: one-file lint never imports fix's module."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"compose_ports.commands.{COMMANDS[name]}")
        return getattr(module, f"{name}_command")  # type: ignore[no-any-return]


@click.group(cls=_Lazy, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="compose-ports")
def main() -> None:
    """Lint, map and rewrite the host ports of Docker Compose projects."""


def entry() -> None:
    """The console script: exit codes 0/1/2, one line per problem, never a traceback."""
    import gc

    from compose_ports.errors import ComposePortsError

    # A run builds one large graph of objects that hold no reference cycles and live until
    # the process ends: the cyclic collector would walk it over and over and free nothing
    # (a quarter of a monorepo's lint time, measured with bench/run.py).
    gc.disable()
    try:
        main.main(standalone_mode=False)
    except click.exceptions.Abort:
        emit("interrupted: every file is either as it was or fully rewritten", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        _show(exc)
        sys.exit(EXIT_ERROR if isinstance(exc, click.UsageError) else exc.exit_code)
    except ComposePortsError as exc:
        _last_words(str(exc))
        sys.exit(EXIT_ERROR)
    except (BrokenPipeError, KeyboardInterrupt):
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("COMPOSE_PORTS_DEBUG"):
            raise
        _last_words(
            f"internal error: {type(exc).__name__}: {exc} "
            "(this is a bug in compose-ports; COMPOSE_PORTS_DEBUG=1 shows the traceback)"
        )
        sys.exit(EXIT_ERROR)
    sys.exit(0)


def _show(exc: click.ClickException) -> None:
    """Click's usage error, whose message may quote an argument: each of its lines escaped."""
    import io

    buffer = io.StringIO()
    exc.show(file=buffer)
    for line in buffer.getvalue().removesuffix("\n").split("\n"):
        _last_words(line)


def _last_words(line: str) -> None:
    """The error a run ends with, on stderr; when stderr cannot take it either, the exit code
    is all that is left to say it."""
    import contextlib

    from compose_ports.errors import ComposePortsError

    with contextlib.suppress(OSError, ComposePortsError):
        emit(line, err=True)


if __name__ == "__main__":  # pragma: no cover
    entry()
