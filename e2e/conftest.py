"""Fixtures for the end-to-end suite: the simulator, a real `hass`, and Chromium."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
import json
import os
from pathlib import Path
import shutil

from playwright.async_api import Browser, async_playwright
import pytest

from nomos_demo.stack import Stack, free_port

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
# Never let Chromium reach the network on its own, nor Playwright fetch a browser.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


# The README's screenshots (docs/images/) and the screenshot of this suite each is;
# README.de.md shows the `.de.png` ones, from Home Assistant in German.
# `script/screenshots` refreshes them from a run of this suite.
DOCS_IMAGES = ROOT / "docs" / "images"
README_SCREENSHOTS = {
    "config-flow.png": "01b-choose-sign-in.png",
    "nomos-sign-in.png": "02-nomos-1-email.png",
    "price-chart.png": "11-price-chart.png",
    "insight-chart.png": "12-insight-chart.png",
    "appliance-menu.png": "en/appliance-menu.png",
    "appliance-form.png": "en/appliance-form.png",
    "device.png": "04-device.png",
    "dashboard.png": "en/dashboard.png",
    "config-flow.de.png": "de/01b-choose-sign-in.png",
    "nomos-sign-in.de.png": "de/02-nomos-1-email.png",
    "price-chart.de.png": "de/price-chart.png",
    "insight-chart.de.png": "de/insight-chart.png",
    "appliance-menu.de.png": "de/appliance-menu.png",
    "appliance-form.de.png": "de/appliance-form.png",
    "device.de.png": "de/device.png",
    "dashboard.de.png": "de/dashboard.png",
}


@pytest.fixture(scope="session")
def artifacts() -> Generator[Path]:
    """Where screenshots and logs of this run go (artifacts/e2e/).

    With NOMOS_UPDATE_SCREENSHOTS=1 the README's screenshots are refreshed
    from them at the end of the run.
    """
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    yield ARTIFACTS
    if os.environ.get("NOMOS_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        for image, shot in README_SCREENSHOTS.items():
            if (ARTIFACTS / shot).exists():
                shutil.copyfile(ARTIFACTS / shot, DOCS_IMAGES / image)


def running_stack(log_dir: Path, config_dir: Path, language: str = "en") -> Generator[Stack]:
    """Start the simulator and Home Assistant; stop them when done."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if language != "en":
        # Home Assistant's language from its first start, as after onboarding in that
        # language: what it names at startup (the map dashboard) is named in it too.
        (config_dir / ".storage").mkdir()
        (config_dir / ".storage" / "core.config").write_text(
            json.dumps(
                {
                    "version": 1,
                    "minor_version": 4,
                    "key": "core.config",
                    "data": {"language": language, "radius": 100},
                }
            )
        )
    running = Stack(
        ha_port=free_port(), sim_port=free_port(), config_dir=config_dir, log_dir=log_dir
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def stack(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Generator[Stack]:
    """The simulator and Home Assistant, onboarded, with application credentials stored."""
    yield from running_stack(artifacts / "logs", tmp_path_factory.mktemp("hass-config"))


@pytest.fixture(scope="session")
def german_stack(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Generator[Stack]:
    """A second simulator and Home Assistant, in German from the start (the tests onboard it)."""
    yield from running_stack(
        artifacts / "logs" / "de", tmp_path_factory.mktemp("hass-config-de"), "de"
    )


@pytest.fixture
async def browser() -> AsyncGenerator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
