"""Edits spliced into the original text (as pyupgrade does): every other byte stays as it was."""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True, order=True)
class Edit:
    start: int  # character offsets into the decoded text
    end: int
    text: str


def splice(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits to the original text, in one pass.

    Each edit's offsets are into the original: the pieces between edits are copied once, so a
    file with 40,000 edits costs what its length costs (rebuilding the text per edit did not).
    """
    ordered = sorted(set(edits))
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise ValueError(f"overlapping edits at {before.start} and {after.start}")
    pieces = []
    position = 0
    for edit in ordered:
        pieces.append(text[position : edit.start])
        pieces.append(edit.text)
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)


def encode_like(text: str, original: bytes) -> bytes:
    """The text in the original's encoding, with its byte-order mark if it had one."""
    if original.startswith(codecs.BOM_UTF8):
        return codecs.BOM_UTF8 + text.encode("utf-8")
    if original.startswith(codecs.BOM_UTF16_LE):
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    if original.startswith(codecs.BOM_UTF16_BE):
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return text.encode("utf-8")
