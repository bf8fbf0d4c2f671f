"""Fixtures: the Nomos simulator on loopback and Home Assistant set up against it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from datetime import datetime
import logging
import os
import time
from typing import Any
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import freezegun
from homeassistant import config_entries
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.energy_coordinator import EnergyCoordinator
from custom_components.nomos_energy.energy_data import EnergyData
from nomos_simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, NomosSimulator
from nomos_simulator.signin import sign_in

# The `add_entry` fixture: add and set up an entry for a seeded customer.
AddEntry = Callable[..., Awaitable[MockConfigEntry]]

ANNA = "anna@example.com"  # one active smart-meter subscription
BEN = "ben@example.com"  # one active and one ended subscription
CLARA = "clara@example.com"  # a pending subscription
DAVID = "david@example.com"  # an analog meter
EMMA = "emma@example.com"  # no subscription yet
FELIX = "felix@example.com"  # a consumption and a feed-in (solar) subscription
GRETA = "greta@example.com"  # time-variable grid fees (§14a module 3)
HANNA = "hanna@example.com"  # four analog flats, smart meter orders at four steps
JONAS = "jonas@example.com"  # a family house: weekdays, seasons, holidays, prepayments


def pytest_configure(config: pytest.Config) -> None:
    """Keep snapshots in tests/snapshots/ on every release line.

    Home Assistant's snapshot extension names that folder; syrupy 6 (the
    current line) reads it from its own option instead, which older syrupy lacks.
    """
    if hasattr(config.option, "snapshot_dirname"):
        config.option.snapshot_dirname = "snapshots"


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--home-assistant-only`: what the floor line runs (script/test)."""
    parser.addoption(
        "--home-assistant-only",
        action="store_true",
        help="run only the tests that start Home Assistant or the Nomos simulator",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With `--home-assistant-only`, leave out the tests that run neither.

    The floor line checks what differs there: Home Assistant's API and the
    packages it pins (aiohttp for the client against the simulator). Pure logic
    and the repository checks import nothing of either and run on the current line.
    """
    if not config.getoption("--home-assistant-only"):
        return
    needs = {"hass", "simulator"}
    kept, left_out = [], []
    for item in items:
        runs = needs & set(getattr(item, "fixturenames", ()))
        (kept if runs else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


# `script/test-dates` sets this to run the whole suite on a date of its choosing.
TEST_NOW = "NOMOS_TEST_NOW"


@pytest.fixture(autouse=True)
def start_clock_at_test_now(request: pytest.FixtureRequest) -> Generator[None]:
    """Start every test at $NOMOS_TEST_NOW (an ISO time), the clock running from there.

    Unset, tests run on the real clock. `script/test-dates` runs the suite on the 1st,
    the 2nd, the 15th, a month's last minutes and both DST days, so a test whose
    expectation holds only on some dates fails there. Declared before the fixtures that
    create `hass`, so Home Assistant, the simulator and the test share that clock; a
    test's own `freezer` starts from it.
    """
    moment = os.environ.get(TEST_NOW)
    # Property tests draw their own moments over datetime's whole range, where
    # freezegun's datetime subclass overflows; they never read the clock.
    if not moment or hasattr(request.function, "hypothesis"):
        yield
        return
    with freezegun.freeze_time(datetime.fromisoformat(moment), tick=True):
        yield


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Load the integration from custom_components/.

    The recorder must start before Home Assistant does, so a test that wants
    it gets it before `enable_custom_integrations` creates `hass`.
    """
    if "recorder_mock" in request.fixturenames:
        request.getfixturevalue("recorder_mock")
        # The recorder's SQL echo would flood the test log, and its threads' DEBUG lines
        # (a pooled connection each) reach the run's output after a test's capture ended.
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
        logging.getLogger("homeassistant.components.recorder").setLevel(logging.INFO)
    request.getfixturevalue("enable_custom_integrations")


@pytest.fixture(autouse=True)
def entity_registry_enabled_by_default(request: pytest.FixtureRequest) -> Generator[None]:
    """Enable the entities that start disabled, so tests see every entity's behaviour.

    Tests of what a homeowner gets by default opt out with
    `@pytest.mark.default_entities`.
    """
    if request.node.get_closest_marker("default_entities"):
        yield
        return
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
    ):
        yield


@pytest.fixture(autouse=True)
def skip_energy_import(request: pytest.FixtureRequest) -> Generator[None]:
    """Keep the daily usage import out of tests about other things.

    It would add requests to every count; tests of the import itself (and the
    benchmarks) opt in with `@pytest.mark.energy_import`.
    """
    if request.node.get_closest_marker("energy_import"):
        yield
        return

    async def nothing(self: EnergyCoordinator, subscription: object, today: object) -> EnergyData:
        return EnergyData()

    with patch.object(EnergyCoordinator, "async_update_subscription", nothing):
        yield


@pytest.fixture
async def simulator(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncGenerator[NomosSimulator]:
    """Serve the Nomos simulator on a free loopback port and point the integration at it.

    Its rate limit is off: frozen test time would put every request into the
    same second. Tests of rate limiting switch it on.
    """
    sim = NomosSimulator(rate_limit=None)
    url = await sim.start()
    monkeypatch.setenv("NOMOS_ENERGY_API_URL", url)
    yield sim
    await sim.stop()


@pytest.fixture
async def setup_credentials(hass: HomeAssistant, simulator: NomosSimulator) -> None:
    """Store the simulator's client id and secret as application credentials."""
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass,
        DOMAIN,
        ClientCredential(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, name="Nomos"),
        DOMAIN,
    )


def entry_for(simulator: NomosSimulator, email: str, **token_overrides: Any) -> MockConfigEntry:
    """Return a config entry holding a fresh token pair for the customer."""
    customer = simulator.customer_by_email(email)
    assert customer is not None
    token = simulator.issue_tokens(customer.id)
    token["expires_at"] = time.time() + token["expires_in"]
    token.update(token_overrides)
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"{customer.first_name} {customer.last_name}",
        unique_id=customer.id,
        data={"auth_implementation": DOMAIN, "token": token},
        minor_version=2,
    )


@pytest.fixture
async def add_entry(
    hass: HomeAssistant, simulator: NomosSimulator, setup_credentials: None
) -> AsyncGenerator[AddEntry]:
    """Return a helper that adds and sets up an entry for a seeded customer.

    The entries are unloaded while the simulator still serves: a test that froze the
    clock in the past hands back a clock days later, and what falls due then (a token
    refresh, a poll) must not meet a stopped simulator.
    """
    added: list[MockConfigEntry] = []

    async def _add(email: str = ANNA, **token_overrides: Any) -> MockConfigEntry:
        entry = entry_for(simulator, email, **token_overrides)
        entry.add_to_hass(hass)
        added.append(entry)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        return entry

    yield _add
    for entry in added:
        if entry.state is config_entries.ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def sign_in_on_nomos(authorize_url: str, email: str, *, approve: bool = True) -> str:
    """Go through the simulator's hosted pages like a person; return the redirect URL."""
    return await sign_in(authorize_url, email, approve=approve)


def query_of(url: str) -> dict[str, str]:
    """Return the query parameters of a URL (single values)."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


async def personal_flow(
    hass: HomeAssistant, client_id: str, secret: str
) -> config_entries.ConfigFlowResult:
    """Add the integration with personal API credentials; return the form's answer."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "personal"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "personal"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": client_id, "client_secret": secret}
    )


# The OAuth flow as a person goes through it ------------------------------------

REDIRECT_URI = "https://example.com/auth/external/callback"


async def complete_callback(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, redirect: str
) -> None:
    """Deliver Nomos's redirect to Home Assistant's real OAuth callback view."""
    assert redirect.startswith(REDIRECT_URI)
    client = await hass_client_no_auth()
    response = await client.get(urlsplit(redirect).path + "?" + urlsplit(redirect).query)
    assert response.status == 200
    await hass.async_block_till_done()


async def start_oauth_flow(hass: HomeAssistant) -> config_entries.ConfigFlowResult:
    """Add the integration and choose the recommended sign-in from the menu."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["pick_implementation", "personal"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "pick_implementation"}
    )


async def sign_in_flow(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    email: str,
    *,
    approve: bool = True,
) -> config_entries.ConfigFlowResult:
    """Start a user flow and sign in on the simulator; return the final result."""
    result = await start_oauth_flow(hass)
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    redirect = await sign_in_on_nomos(result["url"], email, approve=approve)
    await complete_callback(hass, hass_client_no_auth, redirect)
    return await hass.config_entries.flow.async_configure(result["flow_id"])


OPTIONS_FORM = {
    "price_unit": "ct",
    "very_cheap_below": 20,
    "cheap_below": 40,
    "normal_below": 60,
    "expensive_below": 80,
}


async def save_options(hass: HomeAssistant, entry: MockConfigEntry, **answers: Any) -> None:
    """Send the options form as the UI does (defaults for what the test does not set)."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS_FORM, **answers}
    )
    await hass.async_block_till_done(wait_background_tasks=True)


def unescaped_markdown(text: str) -> list[str]:
    """Return what Markdown and HTML are made of in `text`, not backslash-escaped."""
    found, escaped = [], False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "\\`*_{}[]()<>#!|~&:.":
            found.append(char)
    return found
