"""How the browser suite reads a statistics-graph card's answer.

No browser here: the unit suite imports this and runs it on the dates that break date
logic (the 1st, the 2nd, a month's end, both DST days), which the browser suite, on the
real clock, meets only on the day it happens to run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, tzinfo
from typing import Any


def changes_by_start(rows: Iterable[Mapping[str, Any]], zone: tzinfo) -> dict[date, float]:
    """Map the rows of `recorder/statistics_during_period` to their first local day.

    The recorder stretches `end_time` to the end of the period that contains it, so a
    query "from the 1st of last month to the 1st of this month" also answers this month
    once it has a row. Pick a period's row by its start, never by counting rows.
    """
    return {
        datetime.fromtimestamp(row["start"] / 1000, zone).date(): float(row["change"])
        for row in rows
    }
