"""Files by path, read and parsed once per run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compose_ports.compose import suppressions
from compose_ports.errors import ComposePortsError
from compose_ports.readfile import read_bytes
from compose_ports.yamlread import decode, read_documents

_Reads = tuple[dict[str, bytes], dict[str, str], dict[str, tuple[suppressions.Marker, ...]]]


class FileCache:
    """Files by path, read and parsed once per run: several stacks often share a file.

    It keeps the bytes it read, so that `fix` edits exactly what was checked, and it can be
    given new text for a path, so that `fix` can load its result before writing it.
    """

    def __init__(self, keep_text: bool = True) -> None:
        self._docs: dict[str, list[Any]] = {}
        self._data: dict[str, bytes] = {}
        self._text: dict[str, str] = {}
        # lint and map need a file's text only to parse it; fix needs it to edit it.
        self.keep_text = keep_text
        self.markers: dict[str, tuple[suppressions.Marker, ...]] = {}  # file -> its `ignore`s

    def read(self, path: str) -> bytes:
        if path in self._data:
            return self._data[path]
        try:
            data = read_bytes(path)
        except OSError as exc:
            raise ComposePortsError(f"cannot read file: {exc.strerror}", path) from None
        if self.keep_text:
            self._data[path] = data
        return data

    def text(self, path: str) -> str:
        if path in self._text:
            return self._text[path]
        text = decode(self.read(path), path)
        if self.keep_text:
            self._text[path] = text
        if path not in self.markers:
            # Read now, while the text is at hand: lint needs them, and never the text again.
            self.markers[path] = suppressions.scan(text)
        return text

    def documents(self, path: str) -> list[Any]:
        if path not in self._docs:
            self._docs[path] = read_documents(self.text(path), path)
        return self._docs[path]

    def forget(self, path: str) -> None:
        """Drop a file's parsed documents (its bytes and text stay)."""
        self._docs.pop(path, None)

    def known(self) -> frozenset[str]:
        """The paths read so far."""
        return frozenset(self.markers) | frozenset(self._data)

    def read_since(self, known: frozenset[str]) -> _Reads:
        """What was read after `known`, for another process's cache to `take` (forked.py): the
        bytes and texts `fix` edits and the comments lint obeys. Parsed documents stay here."""
        return (
            {k: v for k, v in self._data.items() if k not in known},
            {k: v for k, v in self._text.items() if k not in known},
            {k: v for k, v in self.markers.items() if k not in known},
        )

    def take(self, reads: _Reads) -> None:
        data, text, markers = reads
        # What this process read itself stays: both read the same bytes, or the first won.
        for path, raw in data.items():
            self._data.setdefault(path, raw)
        for path, decoded in text.items():
            self._text.setdefault(path, decoded)
        for path, found in markers.items():
            self.markers.setdefault(path, found)

    def replaced(self, texts: Mapping[str, str]) -> FileCache:
        """A cache that reads `texts` for their paths and the disk for the rest."""
        other = FileCache()
        other._data = dict(self._data)
        other._text = {**self._text, **texts}
        other._docs = {k: v for k, v in self._docs.items() if k not in texts}
        other.markers = {k: v for k, v in self.markers.items() if k not in texts}
        return other
