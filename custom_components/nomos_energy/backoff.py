"""Back-off after failed requests: one warning per outage, bounded retries."""

from __future__ import annotations

from datetime import datetime, timedelta

from .const import LOGGER
from .nomos_client import NomosError, NomosRateLimitError


class Outage:
    """Track consecutive failures of one kind of request.

    Logs one warning when an outage starts and one info line when it ends, and
    backs off exponentially in between (honouring Retry-After), so an outage of
    any length costs Nomos a bounded number of requests per hour.
    """

    def __init__(self, what: str, first: timedelta, longest: timedelta) -> None:
        """Describe what fails (for the log) and the back-off bounds."""
        self.what = what
        self.first = first
        self.longest = longest
        self.failures = 0
        self.retry_at: datetime | None = None

    def failed(self, error: NomosError, now: datetime) -> timedelta:
        """Record a failure and return how long to wait before the next attempt."""
        if not self.failures:
            LOGGER.warning(
                "Could not fetch %s from Nomos, keeping the cached data: %s", self.what, error
            )
        else:
            LOGGER.debug("Fetching %s from Nomos failed again: %s", self.what, error)
        self.failures += 1
        delay = min(self.first * (1 << min(self.failures - 1, 16)), self.longest)
        if isinstance(error, NomosRateLimitError) and error.retry_after is not None:
            delay = max(delay, timedelta(seconds=error.retry_after))
        self.retry_at = now + delay
        return delay

    def due(self, now: datetime) -> bool:
        """Return whether the next attempt may go out (no back-off pending)."""
        return self.retry_at is None or now >= self.retry_at

    def record(self, error: NomosError | None, now: datetime) -> None:
        """Record the outcome of an attempt."""
        if error is None:
            self.succeeded()
        else:
            self.failed(error, now)

    def succeeded(self) -> None:
        """Record a success, logging the recovery once."""
        if self.failures:
            LOGGER.info(
                "Nomos %s are reachable again after %s failed attempts", self.what, self.failures
            )
        self.failures, self.retry_at = 0, None
