"""Lifetimes of new keys (ExpiresIn) and expiry times of existing ones (ExpiresAt)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Optional, Union

from . import _native
from ._errors import check_type, invalid_argument

__all__ = ["ExpiresIn", "ExpiresAt"]  # and duration_ms, for the package

def _whole(value: object, what: str) -> int:
    check_type(value, int, what, "an int")  # bool is an int, but True is never a lifetime
    return value  # type: ignore[return-value]


def _epoch_of(when: Union[int, float, datetime], what: str) -> int:
    if isinstance(when, datetime):
        return int(math.floor(when.timestamp()))
    if isinstance(when, float) and math.isfinite(when):
        return int(math.floor(when))
    return _whole(when, what)


def duration_ms(value: object, what: str) -> int:
    """A timedelta or a number of seconds as whole milliseconds. Only the conversion: the library
    checks the range (positive, at most a day, ...) and names the rule a value breaks."""
    check_type(value, (timedelta, int, float), what, "a timedelta or a number of seconds")
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)  # type: ignore[arg-type]
    if not math.isfinite(seconds):
        raise invalid_argument(f"{what} must be finite")  # no whole number of milliseconds
    return max(-_INT64_MAX, min(_INT64_MAX, int(round(seconds * 1000))))


_INT64_MAX = 2**63 - 1


class ExpiresIn:
    """How long a new API key or disposable token stays valid.

    Build one with :meth:`never`, :meth:`seconds`, :meth:`minutes`, :meth:`hours`, :meth:`days`,
    :meth:`epoch` or :meth:`from_timedelta`; ``ExpiresIn(timedelta(hours=1))`` and
    ``ExpiresIn(3600)`` work too, and ``ExpiresIn(None)`` never expires. Amounts must be
    positive and the lifetime must fit in 32 bits of seconds; bad values raise
    :class:`InvalidArgumentError` (a ValueError).
    """

    __slots__ = ("_unit", "_amount", "_native", "__weakref__")

    def __init__(self, valid_for: Union[timedelta, int, None] = None) -> None:
        """A lifetime from a timedelta, a number of seconds, or None for never."""
        if valid_for is None:
            self._set("never")
        elif isinstance(valid_for, timedelta):
            self._set("seconds", self._timedelta_seconds(valid_for))
        else:
            self._set("seconds", _whole(valid_for, "valid_for"))

    def _set(self, unit: str, *amount: int) -> None:
        # unit: the name of the library's constructor, which repr() shows too
        self._unit = unit
        self._amount = amount
        self._native = getattr(_native.ExpiresIn, unit)(*amount)

    @classmethod
    def _make(cls, unit: str, *amount: int) -> "ExpiresIn":
        obj = cls.__new__(cls)
        obj._set(unit, *amount)
        return obj

    @staticmethod
    def _timedelta_seconds(td: timedelta) -> int:
        seconds = td.total_seconds()
        if seconds != int(seconds):
            raise invalid_argument("a lifetime must be a whole number of seconds")
        return int(seconds)

    @classmethod
    def never(cls) -> "ExpiresIn":
        """A key that never expires (not allowed for disposable tokens)."""
        return cls._make("never")

    @classmethod
    def seconds(cls, valid_for_seconds: int) -> "ExpiresIn":
        """Valid for the given number of seconds."""
        return cls._make("seconds", _whole(valid_for_seconds, "valid_for_seconds"))

    @classmethod
    def minutes(cls, valid_for_minutes: int) -> "ExpiresIn":
        """Valid for the given number of minutes."""
        return cls._make("minutes", _whole(valid_for_minutes, "valid_for_minutes"))

    @classmethod
    def hours(cls, valid_for_hours: int) -> "ExpiresIn":
        """Valid for the given number of hours."""
        return cls._make("hours", _whole(valid_for_hours, "valid_for_hours"))

    @classmethod
    def days(cls, valid_for_days: int) -> "ExpiresIn":
        """Valid for the given number of days."""
        return cls._make("days", _whole(valid_for_days, "valid_for_days"))

    @classmethod
    def epoch(cls, expires_by: Union[int, float, datetime]) -> "ExpiresIn":
        """Valid until an absolute time in the future: epoch seconds or a datetime.

        A naive datetime is taken as local time, as :meth:`datetime.timestamp` does.
        """
        return cls._make("epoch", _epoch_of(expires_by, "expires_by"))

    @classmethod
    def until(cls, when: datetime) -> "ExpiresIn":
        """Valid until the given datetime (same as :meth:`epoch`)."""
        check_type(when, datetime, "when", "a datetime")
        return cls.epoch(when)

    @classmethod
    def from_timedelta(cls, valid_for: timedelta) -> "ExpiresIn":
        """Valid for the given timedelta (whole seconds)."""
        check_type(valid_for, timedelta, "valid_for", "a timedelta")
        return cls._make("seconds", cls._timedelta_seconds(valid_for))

    def does_expire(self) -> bool:
        """False only for :meth:`never`."""
        return bool(self._native.does_expire())

    def valid_for_seconds(self) -> int:
        """The lifetime in seconds (0 for never; for :meth:`epoch`, counted when it was made)."""
        return int(self._native.valid_for_seconds())

    def to_timedelta(self) -> Optional[timedelta]:
        """The lifetime as a timedelta, or None for never."""
        return timedelta(seconds=self.valid_for_seconds()) if self.does_expire() else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ExpiresIn):
            return NotImplemented
        return self.valid_for_seconds() == other.valid_for_seconds()

    def __hash__(self) -> int:
        return hash(("ExpiresIn", self.valid_for_seconds()))

    def __repr__(self) -> str:
        return f"ExpiresIn.{self._unit}({', '.join(map(str, self._amount))})"


class ExpiresAt:
    """When a key or token stops being valid: an epoch second, or never.

    ``ExpiresAt.from_epoch(0)`` and ``ExpiresAt.from_epoch(None)`` mean "never expires", as the
    service reports it.
    """

    __slots__ = ("_epoch", "__weakref__")

    def __init__(self, epoch_timestamp: Optional[int] = None) -> None:
        """An expiry at the given epoch second; None or 0 never expires."""
        if epoch_timestamp is None:
            self._epoch = 0
        else:
            value = _epoch_of(epoch_timestamp, "epoch_timestamp")
            if value < 0:
                raise invalid_argument("epoch_timestamp must not be negative")
            self._epoch = value

    @classmethod
    def from_epoch(cls, epoch: Optional[int] = None) -> "ExpiresAt":
        """An expiry at the given epoch second; None or 0 never expires."""
        return cls(epoch)

    @classmethod
    def from_datetime(cls, when: Optional[datetime]) -> "ExpiresAt":
        """An expiry at the given datetime (None never expires)."""
        if when is None:
            return cls(None)
        check_type(when, datetime, "when", "a datetime")
        return cls(_epoch_of(when, "when"))

    @classmethod
    def never(cls) -> "ExpiresAt":
        """Never expires."""
        return cls(None)

    def does_expire(self) -> bool:
        """True when there is an expiry time."""
        return self._epoch != 0

    def epoch(self) -> int:
        """The expiry in epoch seconds; 0 when it never expires."""
        return self._epoch

    def to_datetime(self) -> Optional[datetime]:
        """The expiry as an aware UTC datetime, or None when it never expires."""
        if not self._epoch:
            return None
        return datetime.fromtimestamp(self._epoch, tz=timezone.utc)

    def remaining(self, now: Optional[datetime] = None) -> Optional[timedelta]:
        """Time left until the expiry (negative once past), or None when it never expires."""
        if not self._epoch:
            return None
        now = now or datetime.now(timezone.utc)
        return timedelta(seconds=self._epoch - now.timestamp())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ExpiresAt):
            return NotImplemented
        return self._epoch == other._epoch

    def __hash__(self) -> int:
        return hash(("ExpiresAt", self._epoch))

    def __repr__(self) -> str:
        if not self._epoch:
            return "ExpiresAt.never()"
        try:
            when = datetime.fromtimestamp(self._epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ ")
        except (OverflowError, ValueError, OSError):  # past the year 9999
            when = ""
        return f"ExpiresAt({when}epoch={self._epoch})"
