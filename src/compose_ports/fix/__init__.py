"""`compose-ports fix`: findings -> actions -> edits -> splice -> proof -> safe writes.

- `pipeline`: the whole run, from reading to writing (the command calls only this);
- `readers`: every project that reads a file to edit, in the run and in the repository;
- `remap`: `--remap`'s `!override` tags and moved ports, from CP103 and CP101 findings;
- `planning`: actions to edits (names from policy.naming), and what must change;
- `layout`, `scalars`, `splice`: where things are in the text, their new text, the splice;
- `proof`: every reader loaded again from the new texts, held to what the findings asked;
- `write`, `envfile`: writes that lose nothing, for compose files and env files.

It may import everything before it in the data flow (reading Compose, the host-port map, the
policy, the rules and their actions, lint, live for `--live`); only the `fix` command imports
it.
"""

from __future__ import annotations


def unified_diff(original: str, new: str, shown: str) -> str:
    """A diff that `patch` and `git apply` accept, down to a missing final newline."""
    import difflib

    lines = []
    for line in difflib.unified_diff(
        original.splitlines(keepends=True),
        new.splitlines(keepends=True),
        f"a/{shown}",
        f"b/{shown}",
    ):
        if line.endswith("\n"):
            lines.append(line)
        else:
            lines.append(line + "\n\\ No newline at end of file\n")
    return "".join(lines)
