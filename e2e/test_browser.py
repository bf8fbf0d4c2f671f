"""A person adds Nomos Energy in Home Assistant's UI, sees prices, and signs in again.

Runs a real `hass` and the simulator as processes, and drives Debian's Chromium.
Screenshots of the key screens land in artifacts/e2e/.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
import json
from pathlib import Path
import re
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from playwright.async_api import Browser, Page, expect
import pytest

from nomos_demo.stack import DEMO_PASSWORD, DEMO_USER, Stack
from nomos_simulator.data import seed_accounts

from .statistics import changes_by_start

pytestmark = pytest.mark.e2e
EMAIL = "anna@example.com"
DOMAIN = "nomos_energy"
BERLIN = ZoneInfo("Europe/Berlin")
# The release pinned in requirements/demo.txt: what users run.
DEMO_RELEASE = re.search(
    r"^homeassistant==(\S+)",
    (Path(__file__).resolve().parents[1] / "requirements" / "demo.txt").read_text(),
    re.MULTILINE,
)[1]
TIMEOUT = 30_000
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


def expected_prices() -> set[str]:
    """The current price as the device page shows it (ct/kWh, two decimals): this
    quarter's, or the last one's when the page was read right at a boundary.
    """
    _, subscriptions = seed_accounts()
    anna = next(sub for sub in subscriptions if sub.number == "4X44EMKX")
    now = datetime.now(UTC)
    quarter = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
    return {
        f"{anna.price_item(start)['amount']:.2f} ct / kWh"
        for start in (quarter, quarter - timedelta(minutes=15))
    }


async def sign_in_on_nomos(popup: Page, shots: Path, name: str) -> None:
    """Type the e-mail and the one-time code, then approve, on the simulator's pages."""
    await popup.wait_for_load_state()
    await expect(popup.get_by_role("heading", name="Sign in to Nomos")).to_be_visible()
    await popup.get_by_label("E-mail").fill(EMAIL)
    await popup.screenshot(path=shots / f"{name}-1-email.png")
    await popup.get_by_role("button", name="Continue").click()
    code = await popup.locator("#otp-code").inner_text()
    assert re.fullmatch(r"\d{6}", code)
    await popup.get_by_label("One-time code").fill(code)
    await popup.get_by_role("button", name="Verify").click()
    await expect(popup.get_by_role("button", name="Approve")).to_be_visible()
    await popup.screenshot(path=shots / f"{name}-2-consent.png")
    await popup.get_by_role("button", name="Approve").click()


async def log_in(page: Page, stack: Stack) -> None:
    await page.goto(stack.ha_url)
    await page.get_by_label("Username").fill(DEMO_USER)
    await page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    # The default page differs between releases: wait for the signed-in frontend itself.
    await page.wait_for_function(
        "() => Boolean(document.querySelector('home-assistant')?.hass?.user)", timeout=TIMEOUT
    )


async def current_price_row(page: Page) -> str:
    """Return the value the device page shows for "Current price"."""
    row = page.locator("hui-sensor-entity-row").filter(
        has=page.get_by_text("Current price", exact=True)
    )
    await expect(row).to_be_visible(timeout=TIMEOUT)
    text: str = await row.evaluate(ROW_VALUE)
    return " ".join(text.split())


async def call_service(stack: Stack, domain: str, service: str, data: dict[str, object]) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{stack.ha_url}/api/services/{domain}/{service}",
            json=data,
            headers={"Authorization": f"Bearer {stack.access_token}"},
        ) as response:
            response.raise_for_status()


async def test_add_see_prices_revoke_and_reauthenticate(
    stack: Stack, browser: Browser, artifacts: Path
) -> None:
    """The whole story of a homeowner, through the UI."""
    await stack.onboard()
    await stack.add_application_credentials()
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await log_in(page, stack)

    # Settings > Devices & services > Add integration > Nomos Energy
    await page.goto(f"{stack.ha_url}/config/integrations/dashboard")
    await page.get_by_role("button", name="Add integration").click()
    search = (
        page.get_by_label("Search for a brand name")
        .or_(page.get_by_placeholder("Search for a brand name"))
        .first
    )
    await expect(search).to_be_visible(timeout=TIMEOUT)
    await search.fill("Nomos")
    await page.screenshot(path=artifacts / "01-add-integration.png")
    await page.get_by_text("Nomos Energy", exact=True).first.click()
    recommended = page.get_by_text("Sign in with Nomos (recommended)")
    await expect(recommended).to_be_visible(timeout=TIMEOUT)
    await page.evaluate("() => Promise.allSettled(document.getAnimations().map(a => a.finished))")
    await page.screenshot(path=artifacts / "01b-choose-sign-in.png")
    async with context.expect_page() as popup_info:
        await recommended.click()
    popup = await popup_info.value
    await sign_in_on_nomos(popup, artifacts, "02-nomos")
    # The success dialog ("Name and assign" on 2026.11) names the new device.
    await expect(page.get_by_text("Signed in to Nomos.")).to_be_visible(timeout=TIMEOUT)
    await expect(page.get_by_placeholder("Nomos 4X44EMKX")).to_be_visible()
    await page.screenshot(path=artifacts / "03-success.png")
    await (
        page.get_by_role("button", name="Skip and finish")
        .or_(page.get_by_role("button", name="Finish"))
        .first.click()
    )

    # The device page shows the price the simulator serves for this quarter-hour.
    await page.goto(f"{stack.ha_url}/config/devices/dashboard")
    await page.get_by_text("Nomos 4X44EMKX").first.click()
    await expect(page.get_by_text("Current price", exact=True)).to_be_visible(timeout=TIMEOUT)
    price = await current_price_row(page)
    assert price in expected_prices(), price
    await page.screenshot(path=artifacts / "04-device.png", full_page=True)
    device_url = page.url

    # Revoke access at Nomos; the next update finds out and asks to sign in again.
    async with aiohttp.ClientSession() as session:
        state = await (await session.get(f"{stack.sim_url}/_sim/state")).json()
        customer = next(a["customer"] for a in state["accounts"] if a["email"] == EMAIL)
        await session.post(f"{stack.sim_url}/_sim/customers/{customer}/revoke")
    await call_service(
        stack,
        "homeassistant",
        "update_entity",
        {"entity_id": "sensor.nomos_4x44emkx_contract_status"},
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
    await show_price_history(stack, page, artifacts)
    await context.close()


async def show_price_history(stack: Stack, page: Page, artifacts: Path) -> None:
    """Wait for the backfilled price statistic, put it on a dashboard, screenshot the chart."""
    statistic = "nomos_energy:4x44emkx_price"
    since = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    # The first import (two years) runs in the background after sign-in.
    await statistic_rows(stack, statistic, 240, start_time=since, period="hour", types=["mean"])
    card = {
        "type": "statistics-graph",
        "title": "Nomos all-in price, hourly (EUR/kWh)",
        "entities": [statistic],
        "stat_types": ["mean", "min", "max"],
        "period": "hour",
        "days_to_show": 3,
        "chart_type": "line",
    }
    await screenshot_card(stack, page, "nomos-prices", card, artifacts / "11-price-chart.png")


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
    # The chart draws itself with an animation on a canvas: keep the first still frame.
    previous = b""
    for _ in range(40):
        frame = await chart.screenshot()
        if frame == previous:
            break
        previous = frame
        await page.wait_for_timeout(250)
    await asyncio.to_thread(path.write_bytes, previous)


async def test_an_appliance_is_planned_on_the_release_users_run(stack: Stack) -> None:
    """ "Add appliance" through Home Assistant's own flow API (what the UI sends: the mode
    from the menu, then its form): a device whose Run-now sensor, planned start and end, and
    calendar run appear at once."""
    headers = {"Authorization": f"Bearer {stack.access_token}"}
    async with aiohttp.ClientSession(base_url=stack.ha_url, headers=headers) as session:
        entries = await (await session.get("/api/config/config_entries/entry")).json()
        entry_id = next(entry["entry_id"] for entry in entries if entry["domain"] == DOMAIN)
        response = await session.post(
            "/api/config/config_entries/subentries/flow",
            json={"handler": [entry_id, "appliance"], "show_advanced_options": False},
        )
        menu = await response.json()
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
                "name": "Dishwasher",
                "duration": {"hours": 2, "minutes": 0, "seconds": 0},
                "deadline": "07:00:00",
                "may_pause": False,
                "power_kw": 1.8,
            },
        )
        created = await response.json()
        assert created["type"] == "create_entry", created
        for _ in range(60):
            response = await session.get("/api/states/binary_sensor.dishwasher_run_now")
            if response.status == 200:
                break
            await asyncio.sleep(0.5)
        run_now = await response.json()
        assert run_now["state"] in ("on", "off")
        assert run_now["attributes"]["planned"] is True
        start = await (await session.get("/api/states/sensor.dishwasher_planned_start")).json()
        end = await (await session.get("/api/states/sensor.dishwasher_planned_end")).json()
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
        assert "Dishwasher" in [event["summary"] for event in calendar]


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
    async with aiohttp.ClientSession(base_url=stack.ha_url, headers=headers) as session:
        entries = await (await session.get("/api/config/config_entries/entry")).json()
        entry_id = next(entry["entry_id"] for entry in entries if entry["domain"] == DOMAIN)
        response = await session.post(
            "/api/config/config_entries/options/flow", json={"handler": entry_id}
        )
        form = await response.json()
        assert form["type"] == "form", form
        # What the form shows filled in stays as it is (as in the UI).
        shown = {
            field["name"]: field["description"]["suggested_value"]
            for field in form["data_schema"]
            if field.get("required")
            and "default" not in field
            and "suggested_value" in field.get("description", {})
        }
        response = await session.post(
            f"/api/config/config_entries/options/flow/{form['flow_id']}",
            json={
                **shown,
                "very_cheap_below": 20,
                "cheap_below": 40,
                "normal_below": 60,
                "expensive_below": 80,
                "comparison_price_ct": 32,
                "comparison_base_fee": 12,
            },
        )
        assert (await response.json())["type"] == "create_entry"
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

    context = await browser.new_context(viewport={"width": 1000, "height": 700})
    page = await context.new_page()
    await log_in(page, stack)
    card = {
        "type": "statistics-graph",
        "title": "Did it pay off? EUR per month",
        "entities": [
            {"entity": statistic, "name": "Saved versus comparison tariff"},
            {"entity": "nomos_energy:4x44emkx_shifting_benefit", "name": "Shifting benefit"},
        ],
        "stat_types": ["change"],
        "period": "month",
        "days_to_show": 365,
        "chart_type": "bar",
    }
    await screenshot_card(stack, page, "nomos-insight", card, artifacts / "12-insight-chart.png")
    await context.close()


async def test_runs_on_the_release_users_run_with_a_clean_log(stack: Stack) -> None:
    """The newest release runs the integration with nothing detected and nothing crashing.

    Home Assistant reports deprecated calls of a custom integration in its log
    ("Detected that custom integration 'nomos_energy' ..."), so a clean log is
    the check that no static list of removed names can give.
    """
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
    # Settings shows no badge: no repair is open, ours or Home Assistant's.
    issues = (await stack.websocket({"type": "repairs/list_issues"}))["issues"]
    assert [issue for issue in issues if not issue["ignored"]] == []
    # The `http:` settings were confirmed: no trial that restarts Home Assistant
    # on its default port after five minutes.
    store = json.loads((stack.config_dir / ".storage" / "http").read_text())
    assert store["data"]["pending"] is None
