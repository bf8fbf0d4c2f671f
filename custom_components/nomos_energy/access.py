"""What Nomos's answers mean for an entry's access: reauth, repairs and recovery.

Every coordinator reports each attempt here. Only an answer that says the
grant is gone starts reauth; rejected application credentials raise a repair
issue (signing in again cannot fix them); everything else is transient and is
reported only when it lasts for more than a day. The first request that
succeeds again clears all of it, withdraws a reauth flow that is no longer
needed and wakes the entry's other coordinators.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, LOGGER
from .issues import error_reference, markdown_safe
from .nomos_client import NomosAuthError, NomosClientCredentialsError, NomosError

# A transient problem this old is worth telling the user about.
PERSISTENT_OUTAGE = timedelta(days=1)


def credentials_issue_id(entry_id: str) -> str:
    """Return the repair issue id for rejected application credentials."""
    return f"application_credentials_rejected_{entry_id}"


def outage_issue_id(entry_id: str) -> str:
    """Return the repair issue id for a day-long outage."""
    return f"nomos_unreachable_{entry_id}"


class AccessMonitor:
    """Track how Nomos answers one entry's requests (all coordinators together)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Start with nothing wrong."""
        self._hass = hass
        self._entry = entry
        self.failing_since: datetime | None = None
        self.grant_gone = False
        self.credentials_rejected = False
        self._recovery_listeners: list[Callable[[], None]] = []

    @callback
    def add_recovery_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener` when requests succeed again after a failure."""
        self._recovery_listeners.append(listener)
        return lambda: self._recovery_listeners.remove(listener)

    @callback
    def failed(self, error: NomosError, now: datetime) -> None:
        """Act on a failure according to what Nomos said."""
        if self.failing_since is None:
            self.failing_since = now
        if isinstance(error, NomosAuthError):
            if not self.grant_gone:
                self.grant_gone = True
                LOGGER.warning("Nomos no longer accepts this sign-in: %s", error)
                self._entry.async_start_reauth(self._hass)
            return
        if isinstance(error, NomosClientCredentialsError):
            if not self.credentials_rejected:
                self.credentials_rejected = True
                LOGGER.warning("Nomos rejected the application credentials: %s", error)
                ir.async_create_issue(
                    self._hass,
                    DOMAIN,
                    credentials_issue_id(self._entry.entry_id),
                    is_fixable=False,
                    severity=ir.IssueSeverity.ERROR,
                    translation_key="application_credentials_rejected",
                    translation_placeholders={"name": markdown_safe(self._entry.title)},
                    learn_more_url="/config/application_credentials",
                )
            return
        if now - self.failing_since >= PERSISTENT_OUTAGE:
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                outage_issue_id(self._entry.entry_id),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="nomos_unreachable",
                translation_placeholders={
                    "name": markdown_safe(self._entry.title),
                    "answer": error_reference(error),
                },
            )

    @callback
    def succeeded(self) -> None:
        """Clear everything a failure raised and wake the other coordinators."""
        if self.failing_since is None:
            return
        self.failing_since = None
        self.grant_gone = self.credentials_rejected = False
        ir.async_delete_issue(self._hass, DOMAIN, credentials_issue_id(self._entry.entry_id))
        ir.async_delete_issue(self._hass, DOMAIN, outage_issue_id(self._entry.entry_id))
        for flow in self._hass.config_entries.flow.async_progress_by_handler(DOMAIN):
            context = flow["context"]
            if context.get("source") == SOURCE_REAUTH and (
                context.get("entry_id") == self._entry.entry_id
            ):
                LOGGER.info("Nomos accepts this sign-in again; the reauth request is withdrawn")
                self._hass.config_entries.flow.async_abort(flow["flow_id"])
        for listener in list(self._recovery_listeners):
            listener()
