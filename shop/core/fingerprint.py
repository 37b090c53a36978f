"""A digest of the code that renders a representation: the namespace of its cached copies.

A cached representation (``shop.core.cache``) is keyed by the versions of the rows it shows, which
the database keeps, and by this digest of the serializer that renders them, which nobody lists
either: it is made of the serializer's own classes as they are now (every attribute, method and
declared field of each of its classes defined in this project, their code included, and its
``Meta``), and of the build (the project's sources and the versions of the libraries that
render). A field added, a method changed (in a release, or by a test at run time) or a library
upgraded gives another digest: the entries and ETags of the old code are never matched again.
"""

import hashlib
import importlib.metadata
import threading
import types
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from rest_framework.fields import Field

PROJECT = "shop."
SOURCES = Path(__file__).resolve().parents[1]  # the shop package
RENDERING_LIBRARIES = ("Django", "djangorestframework", "drf-orjson-renderer", "orjson")

_lock = threading.Lock()
# serializer class -> (its shape, its digest); -> its classes defined in this project
_known: dict[type, tuple[tuple[Any, ...], str]] = {}
_own: dict[type, tuple[type, ...]] = {}


@cache
def build_fingerprint() -> str:
    """The project's sources (tests left out) and the versions of the rendering libraries: the same
    in every process of one release."""
    digest = hashlib.blake2b(digest_size=16)
    for library in RENDERING_LIBRARIES:
        digest.update(f"{library}=={importlib.metadata.version(library)}\n".encode())
    for path in sorted(SOURCES.rglob("*.py")):
        if "tests" not in path.relative_to(SOURCES).parts:
            digest.update(str(path.relative_to(SOURCES)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def serializer_fingerprint(serializer_class: type) -> str:
    """The digest of ``serializer_class`` as it renders now (see the module's docstring).

    Cheap on every request: what its classes hold now is compared with what the digest was made
    from (one tuple comparison); the digest is made again only when that differs.
    """
    shape = _shape(serializer_class)
    known = _known.get(serializer_class)
    if known is not None and known[0] == shape:
        return known[1]
    digest = hashlib.blake2b(build_fingerprint().encode(), digest_size=16)
    for cls in _own_classes(serializer_class):
        digest.update(_describe(cls, nested=True).encode())
    with _lock:
        _known[serializer_class] = (shape, digest.hexdigest())
    return digest.hexdigest()


def _own_classes(serializer_class: type) -> tuple[type, ...]:
    """The classes of ``serializer_class`` defined in this project (its base classes are the
    libraries', which the build's fingerprint names by version)."""
    own = _own.get(serializer_class)
    if own is None:
        own = _own[serializer_class] = tuple(
            c for c in serializer_class.__mro__ if c.__module__.startswith(PROJECT)
        )
    return own


def _shape(serializer_class: type) -> tuple[Any, ...]:
    """What the project's classes of ``serializer_class`` hold (their declared fields among it)
    and their Meta's: names and objects, compared by equality (functions and fields by identity)."""
    shape = []
    for cls in _own_classes(serializer_class):
        own = vars(cls)
        shape.append(tuple(own.items()))
        if "Meta" in own:
            shape.append(tuple(vars(own["Meta"]).items()))
    return tuple(shape)


def _code(code: types.CodeType) -> str:
    digest = hashlib.blake2b(code.co_code, digest_size=12)
    digest.update(repr((code.co_names, code.co_varnames)).encode())
    digest.update(_describe(code.co_consts).encode())
    return digest.hexdigest()


def _renders(name: str, value: Any) -> bool:
    """Whether a class attribute may change what is rendered: not the interpreter's own (its
    ``__doc__``, or ``__slotnames__``, which copying an instance caches on the class in some
    processes and not others), unless it is a method (``__init__``, say)."""
    dunder = name.startswith("__") and name.endswith("__")
    return not dunder or isinstance(value, types.FunctionType | staticmethod | classmethod | property)


def _describe(value: Any, *, nested: bool = False) -> str:
    """A text that changes when ``value`` renders differently, and is the same in every process."""
    if isinstance(value, types.FunctionType):
        return f"def {value.__module__}.{value.__qualname__} {_code(value.__code__)}"
    if isinstance(value, staticmethod | classmethod):
        return f"{type(value).__name__} {_describe(value.__func__)}"
    if isinstance(value, property):
        return "property " + " ".join(_describe(f) for f in (value.fget, value.fset, value.fdel))
    if isinstance(value, type):
        if nested:  # the serializer's own classes and their Meta, attribute by attribute
            items = sorted(
                (name, _describe(attr, nested=name == "Meta"))
                for name, attr in vars(value).items()
                if _renders(name, attr)
            )
            return f"class {value.__module__}.{value.__qualname__} {items}"
        return f"class {value.__module__}.{value.__qualname__}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {_describe(item)}" for key, item in value.items()) + "}"
    if isinstance(value, types.CodeType):  # a function's nested function, lambda or comprehension
        return _code(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(_describe, value)) + "]"
    if isinstance(value, set | frozenset):  # in an order that does not depend on the hash seed
        return "{" + ", ".join(sorted(map(_describe, value))) + "}"
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if isinstance(value, Field):  # a declared field: its class and the arguments it was made with
        return f"{kind}({_describe(value._args)}, {_describe(value._kwargs)})"  # type: ignore[attr-defined]
    if isinstance(value, str | bytes | int | float | Decimal | Enum | None):
        return repr(value)
    return kind  # an object of another kind (a queryset, say) by its kind only: its repr might query
