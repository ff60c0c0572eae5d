"""Go's way of writing values, for reproducing Compose's messages to the letter."""

from __future__ import annotations


def go_quote(text: str) -> str:
    """Go's `strconv.Quote` (used by `%q` and by strconv's NumError messages)."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F or (code > 0x7F and _is_print(code)):
            out.append(ch)
        else:
            escape = _GO_ESCAPES.get(ch)
            if escape is not None:
                out.append(escape)
            elif code < 0x20 or code == 0x7F:
                out.append(f"\\x{code:02x}")
            elif 0xDC80 <= code <= 0xDCFF:
                # A byte that is not UTF-8 (a `!!binary` value's, kept by surrogateescape):
                # Go quotes the byte itself.
                out.append(f"\\x{code - 0xDC00:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _is_print(code: int) -> bool:
    # Go's Unicode version, not this Python's (module goprint); its table is read only
    # when a message quotes a character beyond ASCII.
    from compose_ports.compose.goprint import is_print

    return is_print(code)


_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}
