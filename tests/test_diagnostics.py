"""Diagnostics: useful for support, free of secrets and personal data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from nomos_simulator import DEMO_CLIENT_SECRET

from .conftest import BEN

AddEntry = Callable[..., Awaitable[MockConfigEntry]]


async def test_diagnostics_are_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    add_entry: AddEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Tokens, names, e-mail, addresses, IBAN and meter ids never leave Home Assistant."""
    entry = await add_entry(BEN)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    token = entry.data["token"]
    for secret in (
        token["access_token"],
        token["refresh_token"],
        DEMO_CLIENT_SECRET,
        "Ben",
        "Keller",
        "ben@example.com",
        "Kastanienallee",
        "DE0000",
        "1APA",
    ):
        assert secret not in text
    # The expiry moves with the wall clock; everything else is deterministic.
    assert diagnostics == snapshot(exclude=props("expires_at"))
