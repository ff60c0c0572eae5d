"""The model's shared equality, hash and repr are the ones `dataclass` would have written."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compose_ports import model

CLASSES = [
    cls
    for cls in vars(model).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == model.__name__
]
# What a field may hold does not change how the methods treat it: small values that collide.
VALUES = st.one_of(st.none(), st.integers(0, 2), st.sampled_from(["", "a", "b"]), st.tuples())


def _reference(cls: type) -> type:
    """The class as `dataclass` writes it by default: its own __eq__, __hash__ and __repr__."""
    names = [f.name for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, names, frozen=True)


def test_every_model_class_is_a_frozen_dataclass() -> None:
    assert len(CLASSES) == 8
    for cls in CLASSES:
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        names = [f.name for f in dataclasses.fields(cls)]
        instance = cls(*[None] * len(names))
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(instance, names[0], "x")


@given(st.sampled_from(CLASSES), st.data())
def test_equal_hash_and_repr_as_dataclass_writes_them(cls: type, data: st.DataObject) -> None:
    width = len(dataclasses.fields(cls))
    first, second = (data.draw(st.lists(VALUES, min_size=width, max_size=width)) for _ in "12")
    reference = _reference(cls)
    ours, theirs = cls(*first), reference(*first)
    assert repr(ours) == repr(theirs)
    assert hash(ours) == hash(theirs)
    assert (ours == cls(*second)) == (theirs == reference(*second))
    assert (ours != cls(*second)) == (theirs != reference(*second))
    assert ours == cls(*first)
    assert ours != theirs and ours.__eq__(tuple(first)) is NotImplemented
    assert pickle.loads(pickle.dumps(ours)) == ours
