"""What a rule's fix may ask for, in the model's terms (rules.base explains FIX and fix()).

Imported only by the fixes themselves and by `compose-ports fix`: lint never needs them.
"""

from __future__ import annotations

from typing import NamedTuple

from compose_ports.model import PortBinding, Project


class RenameHostPort(NamedTuple):
    """Write the binding's host port as `${NAME:-PORT}` (and quote the scalar if it is plain)."""

    project: Project
    binding: PortBinding


class QuoteEntry(NamedTuple):
    """Quote the binding's plain scalar; its text stays."""

    project: Project
    binding: PortBinding


class ReplaceEarlierPorts(NamedTuple):
    """Tag the override's `ports` with `!override`: `dropped` (earlier files' entries for the
    binding's container port) stop being published; the earlier files' other entries stay."""

    project: Project
    binding: PortBinding
    dropped: tuple[PortBinding, ...]


class MoveHostPort(NamedTuple):
    """Give the override's binding a free host port on the machine (`host`, or the stack)."""

    project: Project
    binding: PortBinding
    host: str | None


Action = RenameHostPort | QuoteEntry | ReplaceEarlierPorts | MoveHostPort
