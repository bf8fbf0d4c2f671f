"""Diagnostics: useful for support, free of secrets and personal data."""

from __future__ import annotations

import json

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.json import JSONEncoder
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.nomos_energy.diagnostics import async_get_config_entry_diagnostics
from nomos_simulator import (
    DEMO_CLIENT_SECRET,
    PERSONAL_CLIENT_ID,
    PERSONAL_CLIENT_SECRET,
    NomosSimulator,
)

from .conftest import BEN, AddEntry, personal_flow


async def test_diagnostics_are_redacted(
    hass: HomeAssistant,
    add_entry: AddEntry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Tokens, names, e-mail, addresses, IBAN and meter ids never leave Home Assistant."""
    freezer.move_to("2026-11-29T09:00:00+00:00")
    entry = await add_entry(BEN)
    # Called directly: the frozen clock would expire the HTTP client's login.
    diagnostics = json.loads(
        json.dumps(await async_get_config_entry_diagnostics(hass, entry), cls=JSONEncoder)
    )
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
    # The offset derives from the random entry id; everything else is deterministic.
    assert diagnostics == snapshot(exclude=props("publication_offset", "next_check_in"))


async def test_personal_credentials_are_redacted(
    hass: HomeAssistant, simulator: NomosSimulator
) -> None:
    """Personal API credentials identify the customer: neither id nor secret leaves."""
    result = await personal_flow(hass, PERSONAL_CLIENT_ID, PERSONAL_CLIENT_SECRET)
    await hass.async_block_till_done()
    entry = result["result"]
    text = json.dumps(await async_get_config_entry_diagnostics(hass, entry), cls=JSONEncoder)
    assert PERSONAL_CLIENT_ID not in text
    assert PERSONAL_CLIENT_SECRET not in text
    assert entry.data["token"]["access_token"] not in text
