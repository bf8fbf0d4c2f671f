"""The strict field reader every model parses with.

Parsing is strict about what the integration relies on and lenient about the
rest: unknown fields are ignored, and a missing or mistyped required field
raises `NomosResponseError` naming the field's path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
import logging
import math
from typing import Any

from ..errors import NomosResponseError

_LOGGER = logging.getLogger(__name__)


def finite_number(value: object) -> float | None:
    """Return a JSON number as a finite float, or None (booleans, NaN, inf, huge ints)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        return None
    return number if math.isfinite(number) else None


class TimestampOutOfRange(ValueError):
    """A well-formed timestamp that UTC cannot hold."""


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO-8601 timestamp or a plain date into an aware UTC datetime.

    Raises ValueError, also for a moment that UTC cannot hold (year 1 or 9999
    shifted across an offset overflows).
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise TimestampOutOfRange(f"{value!r} is out of range in UTC") from None


class _Skipped:
    """What one response's optional values lost to overflow (logged once per response)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class Fields:
    """Read typed fields of one JSON object, naming the path on failure.

    An optional number or timestamp that is a number or string but out of
    range (NaN, inf, 1e400, year 9999 shifted past UTC) is skipped as unknown,
    with one log line per response; a required one raises NomosResponseError.
    """

    __slots__ = ("_data", "_path", "_skipped")

    def __init__(
        self, data: object, path: str = "response", *, skipped: _Skipped | None = None
    ) -> None:
        """Wrap `data`, which must be a JSON object; `skipped` is shared with its parent."""
        if not isinstance(data, Mapping):
            raise NomosResponseError(f"Invalid response from Nomos: '{path}' must be an object")
        self._data: Mapping[str, Any] = data
        self._path = path
        self._skipped = skipped or _Skipped()

    def _child(self, data: object, path: str) -> Fields:
        return Fields(data, path, skipped=self._skipped)

    def _skip(self, key: str, what: str) -> None:
        """Log the first skipped value of a response; the rest at debug level."""
        self._skipped.count += 1
        log = _LOGGER.warning if self._skipped.count == 1 else _LOGGER.debug
        log(
            "Ignoring field '%s' of a Nomos response: %s out of range (treated as unknown)",
            self._where(key),
            what,
        )

    def _where(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path != "response" else key

    def _fail(self, key: str, expected: str) -> NomosResponseError:
        if key not in self._data:
            return NomosResponseError(
                f"Invalid response from Nomos: field '{self._where(key)}' is missing"
            )
        return NomosResponseError(
            f"Invalid response from Nomos: field '{self._where(key)}' must be {expected}"
        )

    def raw(self, key: str) -> Any:
        """Return the untyped value of a key (None when absent)."""
        return self._data.get(key)

    def has(self, key: str) -> bool:
        """Return whether the key is present and not null."""
        return self._data.get(key) is not None

    def string(self, key: str) -> str:
        """Return a required string."""
        value = self._data.get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def opt_string(self, key: str) -> str | None:
        """Return an optional (nullable or absent) string."""
        if self._data.get(key) is None:
            return None
        return self.string(key)

    def number(self, key: str) -> float:
        """Return a required number (booleans are not numbers)."""
        value = self._data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number")
        number = finite_number(value)
        if number is None:
            raise self._fail(key, "a finite number")
        return number

    def opt_number(self, key: str) -> float | None:
        """Return an optional number; null means unknown, never zero.

        A number out of range is unknown too (logged); any other type raises.
        """
        value = self._data.get(key)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = finite_number(value)
            if number is None:
                self._skip(key, "a number")
            return number
        return self.number(key)

    def timestamp(self, key: str) -> datetime:
        """Return a required timestamp as aware UTC datetime."""
        value = self.string(key)
        try:
            return parse_timestamp(value)
        except ValueError:
            raise self._fail(key, "an ISO-8601 timestamp") from None

    def opt_timestamp(self, key: str) -> datetime | None:
        """Return an optional timestamp.

        A well-formed one that UTC cannot hold is unknown (logged); garbage raises.
        """
        if self._data.get(key) is None:
            return None
        value = self.string(key)
        try:
            return parse_timestamp(value)
        except TimestampOutOfRange:
            self._skip(key, "a timestamp")
            return None
        except ValueError:
            raise self._fail(key, "an ISO-8601 timestamp") from None

    def enum[T: str](self, key: str, allowed: tuple[T, ...]) -> T:
        """Return a required string that must be one of `allowed`."""
        value = self.string(key)
        for option in allowed:
            if value == option:
                return option
        raise self._fail(key, "one of " + ", ".join(allowed) + f" (got '{value}')")

    def obj(self, key: str) -> Fields:
        """Return a required nested object."""
        value = self._data.get(key)
        if not isinstance(value, Mapping):
            raise self._fail(key, "an object")
        return self._child(value, self._where(key))

    def opt_obj(self, key: str) -> Fields | None:
        """Return an optional nested object."""
        if self._data.get(key) is None:
            return None
        return self.obj(key)

    def objects(self, key: str) -> Iterator[Fields]:
        """Yield the objects of a required list."""
        value = self._data.get(key)
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        for index, item in enumerate(value):
            yield self._child(item, f"{self._where(key)}[{index}]")

    def opt_objects(self, key: str) -> list[Fields] | None:
        """Return the objects of an optional (nullable) list."""
        if self._data.get(key) is None:
            return None
        return list(self.objects(key))

    def id_or_object(self, key: str) -> str:
        """Return an id for a field that is either an id or an expanded object."""
        value = self._data.get(key)
        if isinstance(value, Mapping):
            return self.obj(key).string("id")
        return self.string(key)
