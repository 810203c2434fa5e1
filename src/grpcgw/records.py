"""Frozen value records for grpcgw's internal types, cheaper to define than dataclasses.

A ``@dataclass(frozen=True, slots=True)`` costs about half a millisecond to
create at import (its methods are generated as source and compiled, and the
class is made twice for the slots); the Lambda cold path defines a dozen. An
internal record here is a plain ``__slots__`` class with a hand-written
``__init__``: :class:`Record` gives it what a frozen dataclass has besides,
equality and hashing over its fields, a ``repr``, and
:class:`dataclasses.FrozenInstanceError` on assignment. The public option
classes stay dataclasses (users call :func:`dataclasses.replace` on them).
"""

from __future__ import annotations

import inspect
from dataclasses import FrozenInstanceError
from typing import Any, ClassVar

__all__ = ["Record", "setfield"]

#: Sets a field of a record in its ``__init__`` (what a frozen dataclass's does).
setfield = object.__setattr__


class Record:
    """Base of a frozen record: subclasses annotate their fields, name them in
    ``__slots__`` and set them in ``__init__`` with :func:`setfield`.

    ``_uncompared`` names fields left out of equality and hashing; ``_unshown``
    those left out of the ``repr`` (as ``field(compare=False)`` / ``repr=False``);
    ``_derived`` those ``__init__`` does not take (copies and pickles call
    ``__init__`` with the others, in the order the class annotates them).
    """

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _compared: ClassVar[tuple[str, ...]] = ()
    _shown: ClassVar[tuple[str, ...]] = ()
    _uncompared: ClassVar[frozenset[str]] = frozenset()
    _unshown: ClassVar[frozenset[str]] = frozenset()
    _derived: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The fields in the order the class body annotates them (its __slots__ are sorted).
        fields = tuple(inspect.get_annotations(cls))
        if set(fields) != set(cls.__dict__.get("__slots__", ())):
            raise TypeError(f"{cls.__qualname__}: __slots__ must name the annotated fields")
        cls._fields = fields
        cls._compared = tuple(f for f in fields if f not in cls._uncompared)
        cls._shown = tuple(f for f in fields if f not in cls._unshown)

    def _key(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._compared])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Copies and pickles: rebuilt through __init__, which takes the fields in order.
        fields = (name for name in self._fields if name not in self._derived)
        return (type(self), tuple(getattr(self, name) for name in fields))
