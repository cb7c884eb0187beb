"""Request parameters read safely: every integer from a URL, query or form fits a 32-bit column.

The probe found 500s from ids, pages and filters beyond 32 bits, which the databases refuse
(PostgreSQL: integer out of range; SQLite: too large to convert). Here, once for the whole app,
`<int:...>` in a route and `.get(name, type=int)` on request.args/form turn such a value into
"not found" or the default, as for any other non-number, and so does a digit that is not ASCII.
"""

from typing import Any

from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def bounded_int(value: Any) -> int:
    """int(value) for ASCII digits within a 32-bit signed column; ValueError otherwise."""
    text = str(value).strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 10:
        raise ValueError(f"not a whole number: {text[:20]!r}")
    number = int(text)
    if not INT_MIN <= number <= INT_MAX:
        raise ValueError(f"out of range: {text[:20]!r}")
    return number


def fits_column(value: Any) -> bool:
    """Whether a value cleaned by a list filter can be sent to the database as it is."""
    if isinstance(value, list | tuple):
        return all(fits_column(v) for v in value)
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return INT_MIN <= value <= INT_MAX
    if isinstance(value, float):
        return value == value and abs(value) < 1e300  # neither NaN nor infinite
    return True


class BoundedMultiDict(ImmutableMultiDict):
    """Query and form values whose `.get(..., type=int)` only yields 32-bit numbers."""

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # noqa: A002
        return super().get(key, default, bounded_int if type is int else type)

    def getlist(self, key: Any, type: Any = None) -> list[Any]:  # noqa: A002
        return super().getlist(key, bounded_int if type is int else type)


class BoundedRequest(Request):
    parameter_storage_class = BoundedMultiDict


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` matches 0 … 2³¹-1 only; anything longer is a 404 like any unknown path."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, INT_MAX if max is None else max, signed)


def install(app: Flask) -> None:
    """Call before any route is added: the converter is looked up when a rule is."""
    app.request_class = BoundedRequest
    app.url_map.converters["int"] = BoundedIntConverter
