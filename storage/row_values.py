"""Domain values read from result rows: each field from the row's column of the same name."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

Value = TypeVar("Value")


def value_from_row(value_type: type[Value], row: Any, /, **given: Any) -> Value:
    """A `value_type` (a dataclass) from `row`: the fields in `given` as given (renamed or converted columns),
    every other field from the row's column of its name; a field with a default may be missing from the row."""
    values = dict(given)
    for field in dataclasses.fields(value_type):  # type: ignore[arg-type]
        if field.init and field.name not in values and hasattr(row, field.name):
            values[field.name] = getattr(row, field.name)
    return value_type(**values)
