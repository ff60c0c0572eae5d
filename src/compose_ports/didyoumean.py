"""`(did you mean 'allow-services'?)`: the near miss of a name someone typed."""

from __future__ import annotations

from collections.abc import Iterable


def near(word: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest known name, or "" when none is close."""
    import difflib

    candidates = list(dict.fromkeys(known))
    # Case is a common slip (`cp101`), and difflib weighs it like any other letter.
    folded = {c.casefold(): c for c in candidates}
    if word.casefold() in folded and folded[word.casefold()] != word:
        return f" (did you mean {folded[word.casefold()]!r}?)"
    found = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean {found[0]!r}?)" if found else ""
