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
    """Apply non-overlapping edits from the end backwards, so earlier offsets stay valid."""
    ordered = sorted(set(edits))
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise ValueError(f"overlapping edits at {before.start} and {after.start}")
    for edit in reversed(ordered):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def encode_like(text: str, original: bytes) -> bytes:
    """The text in the original's encoding, with its byte-order mark if it had one."""
    if original.startswith(codecs.BOM_UTF8):
        return codecs.BOM_UTF8 + text.encode("utf-8")
    if original.startswith(codecs.BOM_UTF16_LE):
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    if original.startswith(codecs.BOM_UTF16_BE):
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return text.encode("utf-8")
