"""Services every app shares."""

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db import models

ModelT = TypeVar("ModelT", bound=models.Model)


def model_update(*, instance: ModelT, fields: list[str], data: Mapping[str, Any]) -> tuple[ModelT, bool]:
    """Write the ``fields`` of ``instance`` that ``data`` names and changes; say whether any changed.

    ``fields`` is the allow-list (what a caller may change: never the columns another service
    owns, like a goods' price); keys of ``data`` outside it are ignored, fields it leaves out
    stay as they are. Only the changed columns are saved (``update_fields``), after
    ``full_clean``; nothing is written when nothing changed. Many-to-many fields are ``set``
    when their ids differ.
    The HackSoft Django Styleguide's ``model_update``, typed.
    """
    model_fields = {field.name: field for field in instance._meta.get_fields()}
    changed: list[str] = []
    m2m: dict[str, list[Any]] = {}
    for name in fields:
        if name not in data:
            continue
        field = model_fields.get(name)
        if field is None:
            raise ValueError(f"{name} is not a field of {type(instance).__name__}.")
        value = data[name]
        if isinstance(field, models.ManyToManyField):
            m2m[name] = list(value)
        elif getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    if changed:
        instance.full_clean()
        instance.save(update_fields=changed)
    updated = bool(changed)
    for name, values in m2m.items():
        related = getattr(instance, name)
        ids = {getattr(value, "pk", value) for value in values}
        if ids != set(related.values_list("pk", flat=True)):
            related.set(values)
            updated = True
    return instance, updated
