"""Six-field NCRONTAB schedules (``sec min hour day month day-of-week``), pure.

Each field takes ``*``, ``*/n``, ``a``, ``a-b``, ``a-b/n``, ``a/n`` and comma lists. Months
and days of week also take names, matched as NCrontab does: case-insensitive prefixes of the
English names, first match wins (``Mon``, ``MONDAY``, ``jan``). Days of week run 0-6 from
Sunday; like NCrontab, 7 is refused. Times are UTC, as on Flex Consumption.

Day of month and day of week must both match, as in NCrontab (atifaziz/NCrontab
``CrontabSchedule.TryGetNextOccurrence``), unlike classic cron's "either".
The TimeSpan form (``"00:05:00"``, App Service plans only) is not supported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
# The search gives up after this many years: a schedule such as "0 0 0 30 2 *" never fires.
_SEARCH_YEARS = 5


class ScheduleError(ValueError):
    """A schedule expression that is not valid six-field NCRONTAB."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...]  # value = index + first_named
    first_named: int


_FIELDS = (
    _Field("second", 0, 59, (), 0),
    _Field("minute", 0, 59, (), 0),
    _Field("hour", 0, 23, (), 0),
    _Field("day", 1, 31, (), 0),
    _Field("month", 1, 12, _MONTH_NAMES, 1),
    _Field("day-of-week", 0, 6, _DAY_NAMES, 0),
)


@dataclass(frozen=True)
class Schedule:
    """The allowed values of each field of one NCRONTAB expression."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday

    def matches(self, moment: datetime) -> bool:
        """Whether ``moment`` (to the second) is an occurrence of this schedule."""
        return (
            moment.second in self.seconds
            and moment.minute in self.minutes
            and moment.hour in self.hours
            and self._matches_day(moment)
        )

    def next_occurrence(self, after: datetime) -> datetime:
        """The first occurrence strictly after ``after``, with the same tzinfo.

        Args:
            after: The instant to search from; sub-second parts are dropped.

        Returns:
            The next matching instant, whole seconds.

        Raises:
            ScheduleError: No occurrence within five years (e.g. 30 February).
        """
        moment = after.replace(microsecond=0) + timedelta(seconds=1)
        limit = moment + timedelta(days=366 * _SEARCH_YEARS)
        while moment < limit:
            if moment.month not in self.months:
                moment = _first_of_next_month(moment)
            elif not self._matches_day(moment):
                moment = moment.replace(hour=0, minute=0, second=0) + timedelta(days=1)
            elif moment.hour not in self.hours:
                moment = moment.replace(minute=0, second=0) + timedelta(hours=1)
            elif moment.minute not in self.minutes:
                moment = moment.replace(second=0) + timedelta(minutes=1)
            elif moment.second not in self.seconds:
                moment += timedelta(seconds=1)
            else:
                return moment
        raise ScheduleError(f"schedule {self.expression!r} has no occurrence in sight")

    def _matches_day(self, moment: datetime) -> bool:
        # isoweekday(): Monday 1 .. Sunday 7; NCRONTAB counts Sunday as 0.
        return moment.day in self.days and moment.isoweekday() % 7 in self.weekdays


def parse_schedule(expression: str) -> Schedule:
    """Parse a six-field NCRONTAB expression.

    Args:
        expression: For example ``"0 */5 * * * *"`` (every five minutes).

    Returns:
        The parsed schedule.

    Raises:
        ScheduleError: The expression does not have six valid fields.
    """
    parts = expression.split()
    if len(parts) != len(_FIELDS):
        raise ScheduleError(
            f"schedule {expression!r} has {len(parts)} fields; NCRONTAB needs 6 "
            "(second minute hour day month day-of-week)"
        )
    values = [
        _parse_field(part, field, expression) for part, field in zip(parts, _FIELDS, strict=True)
    ]
    seconds, minutes, hours, days, months, weekdays = values
    return Schedule(expression, seconds, minutes, hours, days, months, weekdays)


def _parse_field(text: str, field: _Field, expression: str) -> frozenset[int]:
    allowed: set[int] = set()
    for item in text.split(","):
        allowed.update(_parse_item(item, field, expression))
    return frozenset(allowed)


def _parse_item(item: str, field: _Field, expression: str) -> range:
    span, _, step_text = item.partition("/")
    step = _parse_number(step_text, field, expression) if step_text else 1
    if step < 1:
        raise ScheduleError(f"{field.name} step must be at least 1 in {expression!r}")
    if span == "*":
        low, high = field.low, field.high
    elif "-" in span:
        start_text, _, end_text = span.partition("-")
        low = _parse_value(start_text, field, expression)
        high = _parse_value(end_text, field, expression)
    else:
        low = _parse_value(span, field, expression)
        # "a/n" means from a to the end of the field, stepping n.
        high = field.high if step_text else low
    if low > high:
        raise ScheduleError(f"{field.name} range {span!r} runs backwards in {expression!r}")
    return range(low, high + 1, step)


def _parse_value(text: str, field: _Field, expression: str) -> int:
    if text[:1].isalpha():
        value = _parse_name(text, field, expression)
    else:
        value = _parse_number(text, field, expression)
    if not field.low <= value <= field.high:
        raise ScheduleError(
            f"{field.name} {text!r} is outside {field.low}-{field.high} in {expression!r}"
        )
    return value


def _parse_name(text: str, field: _Field, expression: str) -> int:
    lowered = text.lower()
    for index, name in enumerate(field.names):
        if name.startswith(lowered):
            return index + field.first_named
    raise ScheduleError(f"{field.name} {text!r} is not a name NCRONTAB knows in {expression!r}")


def _parse_number(text: str, field: _Field, expression: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ScheduleError(f"{field.name} {text!r} is not a number in {expression!r}")
    return int(text)


def _first_of_next_month(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=1, hour=0, minute=0, second=0)
