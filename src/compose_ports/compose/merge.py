"""How Compose merges one compose document over another (override files, `extends`, documents).

compose-go@v2.9.1:override/merge.go: mappings merge key by key, sequences append, scalars are
replaced; `!reset` removes what came before and `!override` replaces it whole (loader/reset.go).
`ports` append and then lose duplicates by Compose's unicity key, a later entry taking the earlier
one's place (override/uncity.go; compose-facts §1.3, §2.2, §2.3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from compose_ports.yamlread import OVERRIDE_TAG, RESET_TAG, Reset, YMap, YSeq, tag_of


def is_reset(value: object) -> bool:
    return isinstance(value, Reset) or tag_of(value) == RESET_TAG


def is_override(value: object) -> bool:
    return tag_of(value) == OVERRIDE_TAG


def without_resets(value: Any) -> Any:
    """A value as its own file defines it: a `!reset` key is removed from every mapping, list
    items included (`- {target: !reset 80}` has no target), before Compose looks at the file."""
    if getattr(value, "untagged", False) and getattr(value, "tag", None) is None:
        return value
    if isinstance(value, dict):
        if not any(is_reset(v) or isinstance(v, (dict, list)) for v in value.values()):
            return value
        result = YMap(getattr(value, "src", None), getattr(value, "tag", None))
        for key, item in value.items():
            if is_reset(item):
                continue
            result[key] = without_resets(item)
            if isinstance(value, YMap) and key in value.key_src:
                result.key_src[key] = value.key_src[key]
        return result
    if isinstance(value, list):
        items = [without_resets(item) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        seq = YSeq(getattr(value, "src", None), getattr(value, "tag", None))
        seq.extend(items)
        seq.item_src = list(getattr(value, "item_src", ()))
        return seq
    return value


def merge_mapping(base: dict[str, Any], override: dict[str, Any], path: str = "") -> YMap:
    """`override` merged over `base`, neither of them changed (they may be shared by aliases)."""
    result = YMap(getattr(base, "src", None))
    result.update(base)
    if isinstance(base, YMap):
        result.key_src.update(base.key_src)
    for key, value in override.items():
        child = f"{path}.{key}" if path else key
        if is_reset(value):
            result.pop(key, None)
            continue
        if isinstance(override, YMap) and key in override.key_src:
            result.key_src[key] = override.key_src[key]
        current = result.get(key)
        if is_override(value) or current is None:
            result[key] = without_resets(value)
        elif isinstance(current, dict) and isinstance(value, dict):
            result[key] = merge_mapping(current, value, child)
        elif isinstance(current, list) and isinstance(value, list):
            result[key] = merge_sequence(current, value, child)
        else:
            result[key] = without_resets(value)
    return result


def merge_sequence(base: list[Any], override: list[Any], path: str) -> YSeq:
    result = YSeq(getattr(base, "src", None))
    result.extend(base)
    result.extend(without_resets(item) for item in override)
    positions = [*getattr(base, "item_src", ()), *getattr(override, "item_src", ())]
    if len(positions) == len(result):
        result.item_src = positions
    return result


def unique(
    items: Iterable[Any],
    key: Callable[[Any], str],
    on_duplicate: Callable[[Any, Any], None] | None = None,
) -> list[Any]:
    """Compose's unicity: an entry with an earlier entry's key replaces it at its position."""
    result: list[Any] = []
    index: dict[str, int] = {}
    for item in items:
        k = key(item)
        if k in index:
            if on_duplicate is not None:
                on_duplicate(result[index[k]], item)
            result[index[k]] = item
        else:
            index[k] = len(result)
            result.append(item)
    return result
