"""Go's way of writing values, for reproducing Compose's messages to the letter."""

from __future__ import annotations


def go_quote(text: str) -> str:
    """Go's `strconv.Quote` (used by `%q` and by strconv's NumError messages)."""
    out = ['"']
    for ch in text:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            escape = _GO_ESCAPES.get(ch)
            if escape is not None:
                out.append(escape)
            elif code < 0x20 or code == 0x7F:
                out.append(f"\\x{code:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}
