"""The `compose-ports` console script and `python -m compose_ports`.

Two costs of the interpreter that a run never needs are skipped here, where only the console
script pays attention to them (a program that imports compose-ports keeps both):

- The cyclic garbage collector is off from the first import on (see `commands.entry` for why a run
  does not need it): click, PyYAML and the package build thousands of objects while importing.
- The process ends with `os._exit` once its output is flushed, as mypy does: tearing down the
  modules and freeing every object one by one costs milliseconds on one file and much more on
  a monorepo, and frees memory the kernel takes back at once anyway. Every file a command
  writes is closed (and renamed into place) before it returns, and the package registers no
  exit handlers.
"""

import gc

gc.disable()

import contextlib  # noqa: E402 (after the collector is off, on purpose)
import os  # noqa: E402
import sys  # noqa: E402

from compose_ports import commands  # noqa: E402


def entry() -> None:
    try:
        commands.entry()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)  # what the interpreter does with sys.exit("text")
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more gets through
            stream.flush()
    os._exit(code)


__all__ = ["entry"]
