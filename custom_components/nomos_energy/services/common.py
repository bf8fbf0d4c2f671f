"""What every action shares: the target, Nomos errors, times."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
import math
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..const import DOMAIN
from ..coordinator import NomosConfigEntry
from ..nomos_client import NomosAuthError, NomosError, Subscription

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_DEVICE_ID = "device_id"

# Every action takes an optional target: a device (one subscription) or an entry.
TARGET: dict[vol.Marker, Any] = {
    vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    vol.Optional(ATTR_DEVICE_ID): cv.string,
}


def service_error(key: str, **placeholders: str) -> ServiceValidationError:
    """Return a translated error about the action's input."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def aware(moment: datetime | None) -> datetime | None:
    """Read naive times (as the UI sends them) in Home Assistant's time zone."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(moment)


def local_iso(moment: datetime) -> str:
    """Return an instant as ISO text in Home Assistant's time zone (as people read times)."""
    return dt_util.as_local(moment).isoformat()


def resolve_target(
    hass: HomeAssistant, call: ServiceCall, *, started: bool = False
) -> tuple[NomosConfigEntry, Subscription]:
    """Return the entry and subscription an action is about.

    A device names one subscription. Without one, the config entry (or the
    only loaded entry) must have exactly one subscription that counts: an
    active one, or with `started` any whose supply has begun (history, invoices).
    """
    entries = [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]
    if device_id := call.data.get(ATTR_DEVICE_ID):
        device = dr.async_get(hass).async_get(device_id)
        for entry in entries:
            if device is None or entry.entry_id not in device.config_entries:
                continue
            known = entry.runtime_data.subscriptions.data.subscriptions
            for domain, sub_id in device.identifiers:
                if domain == DOMAIN and sub_id in known:
                    return entry, known[sub_id]
        raise service_error("unknown_device", device_id=device_id)
    if entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID):
        entries = [entry for entry in entries if entry.entry_id == entry_id]
        if not entries:
            raise service_error("entry_not_loaded", config_entry_id=entry_id)
    candidates = [
        (entry, subscription)
        for entry in entries
        for subscription in entry.runtime_data.subscriptions.data.subscriptions.values()
        if subscription.is_active or (started and subscription.start_at is not None)
    ]
    if not candidates:
        raise service_error("no_active_subscription")
    if len(candidates) > 1:
        raise service_error("choose_subscription", count=str(len(candidates)))
    return candidates[0]


async def nomos_call[T](
    entry: NomosConfigEntry,
    call: ServiceCall,
    request: Awaitable[T],
    failure: str = "cannot_reach_nomos",
) -> T:
    """Await a request to Nomos; turn its failure into a translated error (`failure`)."""
    try:
        return await request
    except NomosAuthError as err:
        # As for the entry's own requests: reauth now, withdrawn once a request succeeds.
        entry.runtime_data.access.failed(err, dt_util.utcnow())
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="auth_failed") from err
    except NomosError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=failure,
            translation_placeholders={"error": str(err)},
        ) from err


def money(value: float | None) -> float | None:
    """Round an amount of money for a response (None stays unknown)."""
    return None if value is None else round(value, 4)


def positive_number(field: str, largest: float) -> Callable[[Any], float]:
    """Return the validator of a number field: above 0 and at most `largest`.

    A translated error for anything else, nan and inf included (nan passes any
    vol.Range and inf a minimum, and neither is JSON that Nomos can read).
    """

    def validate(value: Any) -> float:
        try:
            result = float(value)
        except (TypeError, ValueError) as err:
            raise vol.Invalid("expected a number") from err
        except OverflowError:  # an integer too large for a float
            result = math.inf
        if not 0 < result <= largest:  # False for nan
            raise service_error("number_out_of_range", field=field, largest=f"{largest:.0f}")
        return result

    return validate
