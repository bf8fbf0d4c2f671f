"""A person adds Nomos Energy in Home Assistant's UI, sees prices, and signs in again.

Runs a real `hass` and the simulator as processes, and drives Debian's Chromium.
Screenshots of the key screens land in artifacts/e2e/ (en/ and de/: the appliance form,
the device page and the ready dashboard in each language).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
import json
from pathlib import Path
import re
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect
import pytest
import yaml

from nomos_demo.stack import DEMO_PASSWORD, DEMO_USER, Stack
from nomos_simulator.data import grid_level_at, seed_accounts
from nomos_simulator.pages import TEXTS as SIGN_IN_PAGES

from .statistics import changes_by_start

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]
EMAIL = "anna@example.com"
DOMAIN = "nomos_energy"
BERLIN = ZoneInfo("Europe/Berlin")
# The release pinned in requirements/demo.txt: what users run.
DEMO_RELEASE = re.search(
    r"^homeassistant==(\S+)", (ROOT / "requirements" / "demo.txt").read_text(), re.MULTILINE
)[1]
TIMEOUT = 30_000
# What the integration says, in each language the suite runs Home Assistant in.
TRANSLATIONS = {
    language: json.loads(
        (ROOT / "custom_components" / DOMAIN / "translations" / f"{language}.json").read_text()
    )
    for language in ("en", "de")
}
# What Home Assistant's frontend says where the suite clicks or looks.
FRONTEND = {
    "en": {
        "username": "Username",
        "password": "Password",
        "log_in": "Log in",
        "add_integration": "Add integration",
        "search_brand": "Search for a brand name",
        "submit": "Submit",
        "finish": re.compile(r"^(Skip and finish|Finish)$"),
    },
    "de": {
        "username": "Benutzername",
        "password": "Passwort",
        "log_in": "Anmelden",
        "add_integration": "Integration hinzufügen",
        "search_brand": "Nach einem Markennamen suchen",
        "submit": "OK",
        "finish": re.compile(r"^(Überspringen und fertigstellen|Fertigstellen)$"),
    },
}
# A state or a card that shows nothing ("Unavailable", "Entity not available: ...").
UNAVAILABLE = re.compile(r"unavailable|not available|nicht verfügbar", re.IGNORECASE)
# The appliance docs/dashboard.md shows in each language.
APPLIANCE = {"en": "Dishwasher", "de": "Geschirrspüler"}
# The state of an entity row is slotted into hui-generic-entity-row from the
# sensor row's shadow root; innerText does not cross shadow roots, so collect it.
ROW_VALUE = """
row => {
  const text = node => node.shadowRoot
    ? [...node.shadowRoot.childNodes].map(text).join("")
    : node.nodeType === Node.TEXT_NODE ? node.textContent : [...node.childNodes].map(text).join("");
  const generic = row.shadowRoot.querySelector("hui-generic-entity-row");
  return [...generic.childNodes].map(text).join("");
}
"""
# All the text a page shows, inside shadow roots too (but no style sheets).
PAGE_TEXT = """
() => {
  const text = node => {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent;
    if (["STYLE", "SCRIPT"].includes(node.nodeName)) return "";
    const inside = node.shadowRoot ? [...node.shadowRoot.childNodes].map(text) : [];
    return [...inside, ...[...node.childNodes].map(text)].join(" ");
  };
  return text(document.body);
}
"""


def expected_prices(language: str = "en") -> set[str]:
    """The current price as the device page shows it (ct/kWh, two decimals, with the
    language's decimal mark): this quarter's, or the last one's when the page was read
    right at a boundary.
    """
    _, subscriptions = seed_accounts()
    anna = next(sub for sub in subscriptions if sub.number == "4X44EMKX")
    now = datetime.now(UTC)
    quarter = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
    prices = {
        f"{anna.price_item(start)['amount']:.2f} ct / kWh"
        for start in (quarter, quarter - timedelta(minutes=15))
    }
    return {price.replace(".", ",") for price in prices} if language == "de" else prices


async def sign_in_on_nomos(popup: Page, shots: Path, name: str, language: str = "en") -> None:
    """Type the e-mail and the one-time code, then approve, on the simulator's pages
    (in the browser's language, as Nomos's own pages would be)."""
    text = SIGN_IN_PAGES[language]
    await popup.wait_for_load_state()
    await expect(popup.get_by_role("heading", name=text["sign_in_heading"])).to_be_visible()
    await popup.get_by_label(text["email"], exact=True).fill(EMAIL)
    await popup.screenshot(path=shots / f"{name}-1-email.png")
    await popup.get_by_role("button", name=text["continue"]).click()
    code = await popup.locator("#otp-code").inner_text()
    assert re.fullmatch(r"\d{6}", code)
    await popup.get_by_label(text["code"]).fill(code)
    await popup.get_by_role("button", name=text["verify"]).click()
    await expect(popup.get_by_role("button", name=text["approve"])).to_be_visible()
    await popup.screenshot(path=shots / f"{name}-2-consent.png")
    await popup.get_by_role("button", name=text["approve"]).click()


async def signed_in(
    browser: Browser, stack: Stack, language: str = "en", size: tuple[int, int] = (1280, 900)
) -> tuple[BrowserContext, Page]:
    """A browser window in Germany, its language `language`, signed in to Home Assistant."""
    width, height = size
    context = await browser.new_context(
        viewport={"width": width, "height": height},
        locale={"en": "en-US", "de": "de-DE"}[language],
        timezone_id="Europe/Berlin",
    )
    page = await context.new_page()
    words = FRONTEND[language]
    await page.goto(stack.ha_url)
    await page.get_by_label(words["username"]).fill(DEMO_USER)
    await page.get_by_label(words["password"], exact=True).fill(DEMO_PASSWORD)
    await page.get_by_role("button", name=words["log_in"]).click()
    # The default page differs between releases: wait for the signed-in frontend itself.
    await page.wait_for_function(
        "() => Boolean(document.querySelector('home-assistant')?.hass?.user)", timeout=TIMEOUT
    )
    return context, page


async def current_price_row(page: Page, name: str = "Current price") -> str:
    """Return the value the device page shows for "Current price" (its name in `name`)."""
    row = page.locator("hui-sensor-entity-row").filter(has=page.get_by_text(name, exact=True))
    await expect(row).to_be_visible(timeout=TIMEOUT)
    text: str = await row.evaluate(ROW_VALUE)
    return " ".join(text.split())


async def add_nomos(
    stack: Stack, context: BrowserContext, page: Page, shots: Path, language: str
) -> None:
    """Settings > Devices & services > Add integration > Nomos Energy, signed in on Nomos's
    pages, as a homeowner does it in Home Assistant in `language`."""
    words, config = FRONTEND[language], TRANSLATIONS[language]["config"]
    await page.goto(f"{stack.ha_url}/config/integrations/dashboard")
    await page.get_by_role("button", name=words["add_integration"]).click()
    search = (
        page.get_by_label(words["search_brand"])
        .or_(page.get_by_placeholder(words["search_brand"]))
        .first
    )
    await expect(search).to_be_visible(timeout=TIMEOUT)
    await search.fill("Nomos")
    await page.screenshot(path=shots / "01-add-integration.png")
    await page.get_by_text("Nomos Energy", exact=True).first.click()
    recommended = page.get_by_text(config["step"]["user"]["menu_options"]["pick_implementation"])
    await expect(recommended).to_be_visible(timeout=TIMEOUT)
    await expect_nothing_unavailable(stack, page)
    await still_screenshot(page, shots / "01b-choose-sign-in.png")
    async with context.expect_page() as popup_info:
        await recommended.click()
    await sign_in_on_nomos(await popup_info.value, shots, "02-nomos", language)
    # The success dialog ("Name and assign" on 2026.11) names the new device.
    await expect(page.get_by_text(config["create_entry"]["default"])).to_be_visible(timeout=TIMEOUT)
    await expect(page.get_by_placeholder("Nomos 4X44EMKX")).to_be_visible()
    await page.screenshot(path=shots / "03-success.png")
    await page.get_by_role("button", name=words["finish"]).first.click()


async def wait_until_settled(stack: Stack) -> None:
    """Wait until the contract's entities all have a value to show: none is unavailable, and
    the first import of consumption, cost and invoices (after sign-in) is in."""
    headers = {"Authorization": f"Bearer {stack.access_token}"}
    async with aiohttp.ClientSession(base_url=stack.ha_url, headers=headers) as session:
        for _ in range(120):
            states = await (await session.get("/api/states")).json()
            ours = [state for state in states if "nomos_4x44emkx" in state["entity_id"]]
            waiting = [
                state["entity_id"]
                for state in ours
                if state["state"] == "unavailable"
                or (
                    state["state"] == "unknown"
                    and state["attributes"].get("device_class") in ("energy", "monetary")
                )
            ]
            if ours and not waiting:
                return
            await asyncio.sleep(0.5)
    pytest.fail(f"still without a value: {waiting}")


async def page_text(page: Page) -> str:
    text: str = await page.evaluate(PAGE_TEXT)
    return " ".join(text.split())


async def expect_nothing_unavailable(stack: Stack, page: Page) -> None:
    """The page shows no "Unavailable" (nor a card's "Entity not available"), and Settings
    no repair badge: no repair is open, ours or Home Assistant's."""
    shown = await page_text(page)
    assert not UNAVAILABLE.search(shown), shown
    issues = (await stack.websocket({"type": "repairs/list_issues"}))["issues"]
    assert [issue for issue in issues if not issue["ignored"]] == []


async def add_appliance(stack: Stack, page: Page, shots: Path, language: str) -> None:
    """Add appliance: a menu asks first how its run must be done, then that mode's form
    asks the rest. The daily form, filled in, is the README's picture of it."""
    words = FRONTEND[language]
    flow = TRANSLATIONS[language]["config_subentries"]["appliance"]
    menu, daily = flow["step"]["user"], flow["step"]["daily"]
    await page.goto(f"{stack.ha_url}/config/integrations/integration/{DOMAIN}")
    await page.get_by_role("button", name=flow["initiate_flow"]["user"]).click()
    # The dialog's texts are slotted into it: look for them on the page.
    dialog = page.get_by_role("dialog")
    await expect(page.get_by_text(menu["title"], exact=True)).to_be_visible(timeout=TIMEOUT)
    for option in menu["menu_options"].values():
        await expect(page.get_by_text(option, exact=True)).to_be_visible()
    await page.mouse.move(0, 0)  # no hover highlight in the picture
    await still_screenshot(dialog, shots / "appliance-menu.png")
    await page.get_by_text(menu["menu_options"]["daily"], exact=True).click()
    await expect(page.get_by_text(daily["title"], exact=True)).to_be_visible(timeout=TIMEOUT)
    # Only the daily deadline: the hours of the other mode are not asked.
    for field in ("name", "duration", "deadline"):
        label = re.compile(rf"^{re.escape(daily['data'][field])}\s*\*?$")
        await expect(page.get_by_text(label).first).to_be_visible()
        await expect(page.get_by_text(daily["data_description"][field])).to_be_visible()
    await expect(page.get_by_text(flow["step"]["within"]["data"]["within_hours"])).to_have_count(0)
    # The rest waits, collapsed, under "Advanced".
    advanced = daily["sections"]["advanced"]
    await expect(page.get_by_text(advanced["name"], exact=True)).to_be_visible()
    await expect(page.get_by_text(advanced["data_description"]["earliest_start"])).to_be_hidden()
    await page.get_by_role("textbox", name=daily["data"]["name"]).fill(APPLIANCE[language])
    await page.mouse.move(0, 0)
    await still_screenshot(dialog, shots / "appliance-form.png")
    await page.get_by_role("button", name=words["submit"], exact=True).click()
    await page.get_by_role("button", name=words["finish"]).click()
    await expect(dialog).to_have_count(0)


def ready_dashboard(language: str) -> dict[str, Any]:
    """The ready dashboard of docs/dashboard.md: its English one, or its German part's."""
    page = (ROOT / "docs" / "dashboard.md").read_text(encoding="utf-8")
    english, found, german = page.partition("\n## Auf Deutsch\n")
    assert found
    blocks = re.findall(r"```yaml\n(.*?)```", german if language == "de" else english, re.DOTALL)
    [dashboard] = [
        data for data in map(yaml.safe_load, blocks) if isinstance(data, dict) and "views" in data
    ]
    return dict(dashboard)


async def show_ready_dashboard(stack: Stack, page: Page, path: Path, language: str) -> None:
    """Paste the ready dashboard into a new dashboard named as the page says, and keep a
    picture of it once its charts stand still."""
    dashboard = ready_dashboard(language)
    url_path = "dashboard-nomos"
    await stack.websocket(
        {
            "type": "lovelace/dashboards/create",
            "url_path": url_path,
            "title": dashboard["title"],
            "mode": "storage",
            "show_in_sidebar": True,
            "require_admin": False,
        }
    )
    await stack.websocket(
        {"type": "lovelace/config/save", "url_path": url_path, "config": dashboard}
    )
    [view] = dashboard["views"]
    cards = [card for section in view["sections"] for card in section["cards"]]
    # The costs of the last 30 days come from the imported statistic.
    [statistic] = next(card for card in cards if card["type"] == "statistics-graph")["entities"]
    await statistic_rows(
        stack,
        statistic,
        60,
        start_time=(datetime.now(UTC) - timedelta(days=30)).isoformat(),
        period="day",
        types=["change"],
    )
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.goto(f"{stack.ha_url}/{url_path}/{view['path']}")
    await expect(page.get_by_text(view["title"], exact=True).first).to_be_visible(timeout=TIMEOUT)
    await expect(page.locator("hui-calendar-card")).to_be_visible()
    await expect(page.locator("hui-statistics-graph-card canvas").first).to_be_visible()
    # Every section's heading and every card's title, in the dashboard's language (but the
    # card for tomorrow, which shows once tomorrow's prices are in).
    shown = await page_text(page)
    for card in cards:
        if (text := card.get("heading") or card.get("title")) and "visibility" not in card:
            assert text in shown, text
    await expect_nothing_unavailable(stack, page)
    await still_screenshot(page, path)


async def still_screenshot(target: Page | Locator, path: Path) -> None:
    """Keep the first still frame: charts draw themselves with an animation on a canvas."""
    previous = b""
    for _ in range(40):
        frame = await target.screenshot()
        if frame == previous:
            break
        previous = frame
        await asyncio.sleep(0.25)
    await asyncio.to_thread(path.write_bytes, previous)


async def test_add_see_prices_revoke_and_reauthenticate(
    stack: Stack, browser: Browser, artifacts: Path
) -> None:
    """The whole story of a homeowner, through the UI."""
    await stack.onboard()
    await stack.add_application_credentials()
    context, page = await signed_in(browser, stack)
    await add_nomos(stack, context, page, artifacts, "en")

    # The device page shows the price the simulator serves for this quarter-hour, and,
    # once the first import is in, a value for every entity (the README's picture).
    await wait_until_settled(stack)
    await page.goto(f"{stack.ha_url}/config/devices/dashboard")
    await page.get_by_text("Nomos 4X44EMKX").first.click()
    await expect(page.get_by_text("Current price", exact=True)).to_be_visible(timeout=TIMEOUT)
    price = await current_price_row(page)
    assert price in expected_prices(), price
    await expect_nothing_unavailable(stack, page)
    await page.screenshot(path=artifacts / "04-device.png", full_page=True)
    device_url = page.url

    # Revoke access at Nomos; the next request to Nomos finds out and asks to sign in
    # again. With today's data in, the entities ask Nomos again only tomorrow: an action
    # asks now, as an automation might.
    async with aiohttp.ClientSession() as session:
        state = await (await session.get(f"{stack.sim_url}/_sim/state")).json()
        customer = next(a["customer"] for a in state["accounts"] if a["email"] == EMAIL)
        await session.post(f"{stack.sim_url}/_sim/customers/{customer}/revoke")
    with pytest.raises(RuntimeError, match="home_assistant_error"):
        await stack.websocket(
            {
                "type": "call_service",
                "domain": DOMAIN,
                "service": "get_invoices",
                "service_data": {},
                "return_response": True,
            }
        )
    await page.goto(f"{stack.ha_url}/config/integrations/dashboard")
    reauth = page.get_by_role("button", name=re.compile("Reconfigure|Re-authenticate", re.I)).first
    await expect(reauth).to_be_visible(timeout=TIMEOUT)
    await page.screenshot(path=artifacts / "05-reauth-needed.png")
    # Meanwhile the cached prices keep showing: nothing a homeowner relies on goes dark.
    await page.goto(device_url)
    await expect(page.get_by_text("Current price", exact=True)).to_be_visible(timeout=TIMEOUT)
    assert await current_price_row(page) in expected_prices()
    await page.screenshot(path=artifacts / "06-cached-while-reauth-pending.png", full_page=True)

    await page.goto(f"{stack.ha_url}/config/integrations/dashboard")
    await reauth.click()
    confirm = page.get_by_role("button", name="Submit")
    await expect(confirm).to_be_visible(timeout=TIMEOUT)
    await page.screenshot(path=artifacts / "07-reauth-confirm.png")
    async with context.expect_page() as popup_info:
        await confirm.click()
    await sign_in_on_nomos(await popup_info.value, artifacts, "08-nomos-again")
    await expect(
        page.get_by_text(re.compile("Signed in again|Re-authentication was successful"))
    ).to_be_visible(timeout=TIMEOUT)
    await page.screenshot(path=artifacts / "09-reauth-done.png")
    await page.keyboard.press("Escape")

    # Everything is back, with nothing lost.
    await page.goto(device_url)
    await expect(page.get_by_text("Current price", exact=True)).to_be_visible(timeout=TIMEOUT)
    for _ in range(60):  # the page follows the state within a moment
        if await current_price_row(page) in expected_prices():
            break
        await page.wait_for_timeout(500)
    assert await current_price_row(page) in expected_prices()
    await page.screenshot(path=artifacts / "10-device-again.png", full_page=True)

    # The price history as a statistic: a built-in statistics graph can show it.
    await show_price_history(stack, page, artifacts / "11-price-chart.png")
    await context.close()


CHART_TITLES = {
    "en": {
        "price": "Nomos all-in price, hourly (EUR/kWh)",
        "insight": "Did it pay off? EUR per month",
    },
    "de": {
        "price": "Nomos-Gesamtpreis, stündlich (EUR/kWh)",
        "insight": "Hat es sich gelohnt? EUR pro Monat",
    },
}


async def show_price_history(stack: Stack, page: Page, path: Path, language: str = "en") -> None:
    """Wait for the backfilled price statistic, put it on a dashboard, screenshot the chart."""
    statistic = "nomos_energy:4x44emkx_price"
    since = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    # The first import (two years) runs in the background after sign-in.
    await statistic_rows(stack, statistic, 240, start_time=since, period="hour", types=["mean"])
    card = {
        "type": "statistics-graph",
        "title": CHART_TITLES[language]["price"],
        "entities": [statistic],
        "stat_types": ["mean", "min", "max"],
        "period": "hour",
        "days_to_show": 3,
        "chart_type": "line",
    }
    await screenshot_card(stack, page, "nomos-prices", card, path)


async def statistic_rows(
    stack: Stack, statistic: str, attempts: int, **query: object
) -> list[dict[str, Any]]:
    """Ask the recorder as a statistics-graph card does, until the statistic has rows."""
    for _ in range(attempts):
        rows = await stack.websocket(
            {"type": "recorder/statistics_during_period", "statistic_ids": [statistic], **query}
        )
        if rows.get(statistic):
            return list(rows[statistic])
        await asyncio.sleep(0.5)
    pytest.fail(f"{statistic} has no rows for {query}")


async def screenshot_card(
    stack: Stack, page: Page, url_path: str, card: dict[str, object], path: Path
) -> None:
    """Put a statistics-graph card on a new dashboard and keep a still frame of it."""
    await stack.websocket(
        {
            "type": "lovelace/dashboards/create",
            "url_path": url_path,
            "title": str(card["title"]),
            "mode": "storage",
            "show_in_sidebar": True,
            "require_admin": False,
        }
    )
    await stack.websocket(
        {
            "type": "lovelace/config/save",
            "url_path": url_path,
            "config": {"views": [{"title": "Nomos", "cards": [card]}]},
        }
    )
    await page.goto(f"{stack.ha_url}/{url_path}/0")
    chart = page.locator("hui-statistics-graph-card")
    await expect(chart).to_be_visible(timeout=TIMEOUT)
    await expect(chart.get_by_text(str(card["title"]))).to_be_visible()
    await still_screenshot(chart, path)


async def test_an_appliance_through_its_form_and_the_ready_dashboard(
    stack: Stack, browser: Browser, artifacts: Path
) -> None:
    """Add appliance through the UI (the menu, then the daily form), then the ready dashboard
    of docs/dashboard.md pasted as it is: every id it names is there, nothing shows
    "Unavailable"."""
    shots = artifacts / "en"
    shots.mkdir()
    context, page = await signed_in(browser, stack)
    await add_appliance(stack, page, shots, "en")
    await wait_until_settled(stack)
    await show_ready_dashboard(stack, page, shots / "dashboard.png", "en")
    await context.close()


async def test_in_german(german_stack: Stack, browser: Browser, artifacts: Path) -> None:
    """Home Assistant in German from its first start, its owner's language German too: adding
    Nomos, the appliance's menu and form, the device page and the German part of the ready
    dashboard read German (with the German entity ids the dashboard names), and nothing
    shows "Nicht verfügbar"."""
    stack = german_stack
    shots = artifacts / "de"
    shots.mkdir()
    await stack.onboard()
    assert (await stack.websocket({"type": "get_config"}))["language"] == "de"
    # Profile > Language: the frontend keeps the owner's choice as user data.
    await stack.websocket(
        {
            "type": "frontend/set_user_data",
            "key": "language",
            "value": {
                "language": "de",
                "number_format": "language",
                "time_format": "language",
                "date_format": "language",
                "first_weekday": "language",
                "time_zone": "server",
            },
        }
    )
    await stack.add_application_credentials()
    context, page = await signed_in(browser, stack, "de")
    await add_nomos(stack, context, page, shots, "de")

    await wait_until_settled(stack)
    await page.goto(f"{stack.ha_url}/config/devices/dashboard")
    await page.get_by_text("Nomos 4X44EMKX").first.click()
    names = TRANSLATIONS["de"]["entity"]
    current_price = names["sensor"]["current_price_ct"]["name"]
    for name in (
        current_price,
        names["sensor"]["today_range"]["name"],
        names["binary_sensor"]["cheap_period"]["name"],
    ):
        await expect(page.get_by_text(name, exact=True).first).to_be_visible(timeout=TIMEOUT)
    assert await current_price_row(page, current_price) in expected_prices("de")
    await expect_nothing_unavailable(stack, page)
    await page.screenshot(path=shots / "device.png")

    await add_appliance(stack, page, shots, "de")
    await show_ready_dashboard(stack, page, shots / "dashboard.png", "de")
    await show_price_history(stack, page, shots / "price-chart.png", "de")
    await context.close()

    # "Hat es sich gelohnt?": the comparison tariff's monthly chart in German.
    await set_comparison_tariff(stack)
    year_ago = (datetime.now(UTC) - timedelta(days=365)).isoformat()
    await statistic_rows(
        stack,
        "nomos_energy:4x44emkx_saved_versus_comparison",
        60,
        start_time=year_ago,
        period="month",
        types=["change"],
    )
    context, page = await signed_in(browser, stack, "de", size=(1000, 700))
    await show_insight(stack, page, shots / "insight-chart.png", "de")
    await context.close()
    # A cost tracker and a car charged to its target: German entity ids from the German names.
    await track_a_device(
        stack,
        "Wärmepumpe",
        [
            "sensor.warmepumpe_kosten_heute",
            "sensor.warmepumpe_kosten_gestern",
            "sensor.warmepumpe_monatskosten_bisher",
        ],
    )
    await charge_a_car(
        stack,
        "Auto",
        "sensor.auto_ladeleistung_jetzt",
        "number.auto_ziel_ladestand",
        "binary_sensor.auto_jetzt_einschalten",
    )


async def start_subentry_flow(session: aiohttp.ClientSession, kind: str) -> dict[str, Any]:
    """Open "Add appliance" or "Add cost tracker" on the Nomos entry, as the UI does."""
    entries = await (await session.get("/api/config/config_entries/entry")).json()
    entry_id = next(entry["entry_id"] for entry in entries if entry["domain"] == DOMAIN)
    response = await session.post(
        "/api/config/config_entries/subentries/flow",
        json={"handler": [entry_id, kind], "show_advanced_options": False},
    )
    flow: dict[str, Any] = await response.json()
    return flow


async def test_an_appliance_is_planned_on_the_release_users_run(stack: Stack) -> None:
    """ "Add appliance" through Home Assistant's own flow API (what the UI sends: the mode
    from the menu, then its form): a device whose Run-now sensor, planned start and end, and
    calendar run appear at once."""
    headers = {"Authorization": f"Bearer {stack.access_token}"}
    async with aiohttp.ClientSession(base_url=stack.ha_url, headers=headers) as session:
        menu = await start_subentry_flow(session, "appliance")
        assert menu["type"] == "menu", menu
        assert menu["step_id"] == "user"
        response = await session.post(
            f"/api/config/config_entries/subentries/flow/{menu['flow_id']}",
            json={"next_step_id": "daily"},
        )
        form = await response.json()
        assert form["type"] == "form", form
        assert form["step_id"] == "daily"
        response = await session.post(
            f"/api/config/config_entries/subentries/flow/{form['flow_id']}",
            json={
                "name": "Washing machine",
                "duration": {"hours": 2, "minutes": 0, "seconds": 0},
                "deadline": "07:00:00",
                "advanced": {"may_pause": False, "power_kw": 1.8},
            },
        )
        created = await response.json()
        assert created["type"] == "create_entry", created
        for _ in range(60):
            response = await session.get("/api/states/binary_sensor.washing_machine_run_now")
            if response.status == 200:
                break
            await asyncio.sleep(0.5)
        run_now = await response.json()
        assert run_now["state"] in ("on", "off")
        assert run_now["attributes"]["planned"] is True
        start = await (await session.get("/api/states/sensor.washing_machine_planned_start")).json()
        end = await (await session.get("/api/states/sensor.washing_machine_planned_end")).json()
        planned = datetime.fromisoformat(start["state"])
        assert datetime.fromisoformat(end["state"]) - planned == timedelta(hours=2)
        calendar = await (
            await session.get(
                "/api/calendars/calendar.nomos_4x44emkx_prices",
                params={
                    "start": (planned - timedelta(hours=1)).isoformat(),
                    "end": (planned + timedelta(hours=3)).isoformat(),
                },
            )
        ).json()
        assert "Washing machine" in [event["summary"] for event in calendar]


async def wait_for_state(
    session: aiohttp.ClientSession, entity_id: str, check: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Poll an entity's state until `check` holds (Home Assistant works while we wait)."""
    state: dict[str, Any] = {}
    for _ in range(60):
        response = await session.get(f"/api/states/{entity_id}")
        if response.status == 200:
            state = await response.json()
            if check(state):
                return state
        await asyncio.sleep(0.5)
    raise AssertionError(f"{entity_id}: {state}")


async def charge_a_car(stack: Stack, name: str, power: str, target: str, run_now: str) -> None:
    """ "Add appliance" > "Charge a car or battery by a time" through the flow API the UI uses:
    the car at 40 % of 60 kWh is planned to 80 % by 07:00; at 85 % (charged elsewhere) nothing
    is planned; a target of 100 % from the dashboard's number plans again."""
    headers = {"Authorization": f"Bearer {stack.access_token}"}
    async with aiohttp.ClientSession(base_url=stack.ha_url, headers=headers) as session:
        # No name asked: the charger is named after its battery sensor.
        soc = {"attributes": {"unit_of_measurement": "%", "friendly_name": name}}
        await session.post("/api/states/sensor.car_battery", json={"state": "40", **soc})
        menu = await start_subentry_flow(session, "appliance")
        assert "charge" in menu["menu_options"], menu
        response = await session.post(
            f"/api/config/config_entries/subentries/flow/{menu['flow_id']}",
            json={"next_step_id": "charge"},
        )
        form = await response.json()
        assert form["step_id"] == "charge", form
        response = await session.post(
            f"/api/config/config_entries/subentries/flow/{form['flow_id']}",
            json={
                "soc_entity": "sensor.car_battery",
                "capacity_kwh": 60,
                "deadline": "07:00:00",
                "advanced": {"target_soc": 80, "power_kw": 11, "efficiency": 90},
            },
        )
        assert (await response.json())["type"] == "create_entry"
        state = await wait_for_state(session, power, lambda state: True)
        assert state["attributes"]["energy_to_charge"] == pytest.approx(24 / 0.9, abs=1e-3)
        assert state["attributes"]["unit_of_measurement"] == "kW"
        planned = await wait_for_state(session, run_now, lambda state: True)
        assert planned["attributes"]["planned"] is True
        assert (await wait_for_state(session, target, lambda state: True))["state"] == "80.0"
        await session.post("/api/states/sensor.car_battery", json={"state": "85", **soc})
        await wait_for_state(session, run_now, lambda state: not state["attributes"]["planned"])
        assert (await wait_for_state(session, power, lambda state: True))["state"] == "0.0"
        response = await session.post(
            "/api/services/number/set_value", json={"entity_id": target, "value": 100}
        )
        assert response.status == 200
        await wait_for_state(session, run_now, lambda state: state["attributes"]["planned"])
        state = await wait_for_state(session, power, lambda state: True)
        assert state["attributes"]["energy_to_charge"] == pytest.approx(9 / 0.9, abs=1e-3)


async def test_a_car_is_charged_on_the_release_users_run(stack: Stack) -> None:
    """A car charged to its target, on the release users run, in English."""
    await charge_a_car(
        stack,
        "Car",
        "sensor.car_charging_power_now",
        "number.car_target_state_of_charge",
        "binary_sensor.car_run_now",
    )


async def track_a_device(stack: Stack, name: str, sensors: list[str]) -> None:
    """ "Add cost tracker" through the flow API the UI uses, for a heat pump's energy meter:
    its cost sensors are there at once, none unavailable."""
    headers = {"Authorization": f"Bearer {stack.access_token}"}
    async with aiohttp.ClientSession(base_url=stack.ha_url, headers=headers) as session:
        meter = {
            "device_class": "energy",
            "state_class": "total_increasing",
            "unit_of_measurement": "kWh",
        }
        await session.post(
            "/api/states/sensor.heat_pump_meter", json={"state": "1000.0", "attributes": meter}
        )
        form = await start_subentry_flow(session, "cost_tracker")
        assert form["type"] == "form", form
        response = await session.post(
            f"/api/config/config_entries/subentries/flow/{form['flow_id']}",
            json={"name": name, "entity_id": "sensor.heat_pump_meter"},
        )
        assert (await response.json())["type"] == "create_entry"
        for entity_id in sensors:
            await wait_for_state(
                session, entity_id, lambda state: state["state"] not in ("unavailable",)
            )


async def test_a_device_cost_tracker_on_the_release_users_run(stack: Stack) -> None:
    """A cost tracker for the heat pump, on the release users run, in English."""
    await track_a_device(
        stack,
        "Heat pump",
        [
            "sensor.heat_pump_cost_today",
            "sensor.heat_pump_cost_yesterday",
            "sensor.heat_pump_month_to_date_cost",
        ],
    )


async def set_comparison_tariff(stack: Stack) -> None:
    """Options > comparison tariff (32 ct/kWh, 12 EUR a month) and the price levels."""
    headers = {"Authorization": f"Bearer {stack.access_token}"}
    async with aiohttp.ClientSession(base_url=stack.ha_url, headers=headers) as session:
        await save_options(
            session,
            very_cheap_below=20,
            cheap_below=40,
            normal_below=60,
            expensive_below=80,
            comparison_price_ct=32,
            comparison_base_fee=12,
        )


async def show_insight(stack: Stack, page: Page, path: Path, language: str = "en") -> None:
    """The "did it pay off" card: month by month, saved versus the comparison tariff and
    the shifting benefit (the integration's own names for the two statistics)."""
    names = TRANSLATIONS[language]["entity"]["sensor"]
    card = {
        "type": "statistics-graph",
        "title": CHART_TITLES[language]["insight"],
        "entities": [
            {
                "entity": "nomos_energy:4x44emkx_saved_versus_comparison",
                "name": names["saved_versus_comparison_statistic"]["name"],
            },
            {
                "entity": "nomos_energy:4x44emkx_shifting_benefit",
                "name": names["shifting_benefit_statistic"]["name"],
            },
        ],
        "stat_types": ["change"],
        "period": "month",
        "days_to_show": 365,
        "chart_type": "bar",
    }
    await screenshot_card(stack, page, "nomos-insight", card, path)


async def test_a_comparison_tariff_on_the_release_users_run(
    stack: Stack, browser: Browser, artifacts: Path
) -> None:
    """Options > comparison tariff through Home Assistant's flow API: last month's saving
    appears as a sensor (a month's figure, without a state class, so the Energy dashboard
    never offers it as a cost), and the daily statistic's last month,
    asked for as a statistics-graph card asks (period month, change), is the same amount.
    Developer tools > Statistics reports nothing to fix for our entities. The card itself,
    month by month with the shifting benefit, is the README's "did it pay off" picture."""
    headers = {"Authorization": f"Bearer {stack.access_token}"}
    saved_sensor = "sensor.nomos_4x44emkx_saved_versus_comparison_tariff_last_month"
    statistic = "nomos_energy:4x44emkx_saved_versus_comparison"
    await set_comparison_tariff(stack)
    async with aiohttp.ClientSession(base_url=stack.ha_url, headers=headers) as session:
        for _ in range(60):  # the entry reloads from its cache
            response = await session.get(f"/api/states/{saved_sensor}")
            if response.status == 200:
                break
            await asyncio.sleep(0.5)
        saved = await response.json()
    assert "state_class" not in saved["attributes"]
    assert "last_reset" not in saved["attributes"]
    first_day = date.fromisoformat(saved["attributes"]["first_day"])
    assert first_day.day == 1
    assert saved["attributes"]["month"] == first_day.strftime("%Y-%m")
    month_start = datetime.combine(first_day, time(), BERLIN)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    rows = await statistic_rows(
        stack,
        statistic,
        60,
        start_time=month_start.isoformat(),
        end_time=next_month.isoformat(),
        period="month",
        types=["change"],
    )
    # From the 2nd on, this month's row comes too (see changes_by_start).
    by_month = changes_by_start(rows, BERLIN)
    assert by_month[month_start.date()] == pytest.approx(float(saved["state"]), abs=0.006)
    assert set(by_month) <= {month_start.date(), next_month.date()}
    issues = await stack.websocket({"type": "recorder/validate_statistics"})
    assert not [entity_id for entity_id in issues if "nomos" in entity_id]

    context, page = await signed_in(browser, stack, size=(1000, 700))
    await show_insight(stack, page, artifacts / "12-insight-chart.png")
    await context.close()


@pytest.mark.parametrize("language", ["en", "de"])
async def test_grid_fees_and_modules_of_a_module_3_household(
    language: str, browser: Browser, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    """Greta (§14a modules 1 and 3) signs in beside Anna: her device page names the grid
    fee's level now in the language of the house, with no "Unavailable"; the grid-fee
    comparison answers through Home Assistant's action API with her active modules."""
    stack: Stack = request.getfixturevalue("german_stack" if language == "de" else "stack")
    if language == "de":
        await wait_until_settled(stack)  # test_in_german set this stack up
    result = await stack.sign_in("greta@example.com")
    names = TRANSLATIONS[language]["entity"]["sensor"]["grid_fee_level"]
    now = datetime.now(UTC)
    # The page is read within a minute or two: either side of a window's edge will do.
    moments = (now - timedelta(minutes=1), now, now + timedelta(minutes=2))
    levels = {names["state"][grid_level_at(moment)] for moment in moments}
    context, page = await signed_in(browser, stack, language)
    await page.goto(f"{stack.ha_url}/config/devices/dashboard")
    await page.get_by_text("Nomos GR3TAM03").first.click()
    await expect(page.get_by_text(names["name"], exact=True).first).to_be_visible(timeout=TIMEOUT)
    shown = await page_text(page)
    assert any(level in shown for level in levels), shown
    await expect_nothing_unavailable(stack, page)
    await page.screenshot(path=artifacts / f"grid-fee-device.{language}.png")
    await context.close()

    headers = {"Authorization": f"Bearer {stack.access_token}"}
    async with aiohttp.ClientSession(base_url=stack.ha_url, headers=headers) as session:
        response = await session.post(
            "/api/services/nomos_energy/compare_grid_fee_options?return_response",
            json={"config_entry_id": result["result"]["entry_id"]},
        )
        assert response.status == 200, await response.text()
        answer = (await response.json())["service_response"]
    assert answer["contract"] == "GR3TAM03"
    assert answer["active_modules"] == [1, 3]
    assert answer["options"]["module_1"]["difference_eur"] == 0


async def save_options(session: aiohttp.ClientSession, **changes: Any) -> None:
    """Options through the flow API the options dialog uses: what it shows, with `changes`."""
    entries = await (await session.get("/api/config/config_entries/entry")).json()
    entry_id = next(entry["entry_id"] for entry in entries if entry["domain"] == DOMAIN)
    response = await session.post(
        "/api/config/config_entries/options/flow", json={"handler": entry_id}
    )
    form = await response.json()
    shown = {
        field["name"]: field["description"]["suggested_value"]
        for field in form["data_schema"]
        if field.get("description", {}).get("suggested_value") is not None
    }
    response = await session.post(
        f"/api/config/config_entries/options/flow/{form['flow_id']}",
        json={key: value for key, value in (shown | changes).items() if value is not None},
    )
    assert (await response.json())["type"] == "create_entry"
    await loaded_again(session)


async def loaded_again(session: aiohttp.ClientSession) -> None:
    """Wait until the Nomos entry is loaded again (new options or a new subentry reload it)."""
    for _ in range(60):
        entries = await (await session.get("/api/config/config_entries/entry")).json()
        if next(e["state"] for e in entries if e["domain"] == DOMAIN) == "loaded":
            return
        await asyncio.sleep(0.5)
    raise AssertionError("the Nomos entry did not load again")


def is_a_time(state: dict[str, Any]) -> bool:
    return state["state"] not in ("unknown", "unavailable")


@pytest.mark.parametrize("language", ["en", "de"])
async def test_a_household_under_its_fuse_on_the_release_users_run(
    language: str, request: pytest.FixtureRequest
) -> None:
    """An import limit of 3 kW (Options), then a 2 kW dryer and a 2 kW sauna done by 23:45
    (prices known for that at any hour): planned together on the release users run (HiGHS in
    Home Assistant's own environment), never at the same time; the limit removed again. In
    German, the entity ids are German too."""
    stack: Stack = request.getfixturevalue("german_stack" if language == "de" else "stack")
    appliances = {"en": ("Dryer", "Sauna"), "de": ("Trockner", "Sauna")}[language]
    names = TRANSLATIONS[language]["entity"]
    run_now, start_name, end_name = (
        name["name"].lower().replace(" ", "_")
        for name in (
            names["binary_sensor"]["run_now"],
            names["sensor"]["planned_start"],
            names["sensor"]["planned_end"],
        )
    )
    headers = {"Authorization": f"Bearer {stack.access_token}"}
    async with aiohttp.ClientSession(base_url=stack.ha_url, headers=headers) as session:
        await save_options(session, import_limit_kw=3)
        for name in appliances:
            form = await start_subentry_flow(session, "appliance")
            response = await session.post(
                f"/api/config/config_entries/subentries/flow/{form['flow_id']}",
                json={"next_step_id": "daily"},
            )
            form = await response.json()
            response = await session.post(
                f"/api/config/config_entries/subentries/flow/{form['flow_id']}",
                json={
                    "name": name,
                    "duration": {"hours": 2, "minutes": 0, "seconds": 0},
                    "deadline": "23:45:00",
                    "advanced": {"may_pause": False, "power_kw": 2.0},
                },
            )
            assert (await response.json())["type"] == "create_entry"
            await loaded_again(session)  # a new appliance reloads the entry
        runs = []
        for name in (appliance.lower() for appliance in appliances):
            plan = await wait_for_state(session, f"binary_sensor.{name}_{run_now}", is_a_time)
            assert plan["attributes"]["reason"] == "cheapest", plan
            start = await wait_for_state(session, f"sensor.{name}_{start_name}", is_a_time)
            end = await wait_for_state(session, f"sensor.{name}_{end_name}", is_a_time)
            runs.append(
                (datetime.fromisoformat(start["state"]), datetime.fromisoformat(end["state"]))
            )
        (dryer_start, dryer_end), (sauna_start, sauna_end) = runs
        assert dryer_end <= sauna_start or sauna_end <= dryer_start, runs
        await save_options(session, import_limit_kw=None)


@pytest.mark.parametrize("language", ["en", "de"])
async def test_runs_on_the_release_users_run_with_a_clean_log(
    language: str, request: pytest.FixtureRequest
) -> None:
    """The newest release runs the integration with nothing detected and nothing crashing,
    in English and in German.

    Home Assistant reports deprecated calls of a custom integration in its log
    ("Detected that custom integration 'nomos_energy' ..."), so a clean log is
    the check that no static list of removed names can give.
    """
    stack: Stack = request.getfixturevalue("german_stack" if language == "de" else "stack")
    config = await stack.websocket({"type": "get_config"})
    assert config["version"] == DEMO_RELEASE
    assert stack.config_dir is not None
    assert stack.log_dir is not None
    log = (stack.log_dir / "home-assistant.log").read_text(errors="replace")
    # Deprecated calls and blocking I/O that Home Assistant detected in our code.
    detected = [
        line
        for line in log.splitlines()
        if "nomos_energy" in line and re.search(r"Detected|deprecat", line, re.IGNORECASE)
    ]
    assert detected == [], "\n".join(detected)
    # No exception escaped from our code (expected problems, like the revoked
    # access of the story above, are logged as such, not as crashes).
    crashes = [
        line
        for line in log.splitlines()
        if "nomos_energy" in line
        and re.search(
            r"Unexpected error|Error doing job|Error setting up entry|never retrieved|"
            r"Exception in|Error while setting up",
            line,
        )
    ]
    assert crashes == [], "\n".join(crashes)
    # The daily import was stored: on a real recorder a large import takes seconds,
    # and taking it for failed would fetch the whole history again every day.
    assert "did not store" not in log
    # Settings shows no badge: no repair is open, ours or Home Assistant's.
    issues = (await stack.websocket({"type": "repairs/list_issues"}))["issues"]
    assert [issue for issue in issues if not issue["ignored"]] == []
    # The `http:` settings were confirmed: no trial that restarts Home Assistant
    # on its default port after five minutes.
    store = json.loads((stack.config_dir / ".storage" / "http").read_text())
    assert store["data"]["pending"] is None
