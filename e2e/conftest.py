"""Fixtures for the end-to-end suite: the simulator, a real `hass`, and Chromium."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
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


# The README's screenshots (docs/images/) and the screenshot of this suite each is.
# `script/screenshots` refreshes them from a run of this suite.
DOCS_IMAGES = ROOT / "docs" / "images"
README_SCREENSHOTS = {
    "config-flow.png": "01b-choose-sign-in.png",
    "nomos-sign-in.png": "02-nomos-1-email.png",
    "device.png": "04-device.png",
    "price-chart.png": "11-price-chart.png",
    "insight-chart.png": "12-insight-chart.png",
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


@pytest.fixture(scope="session")
def stack(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Generator[Stack]:
    """The simulator and Home Assistant, onboarded, with application credentials stored."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    running = Stack(
        ha_port=free_port(),
        sim_port=free_port(),
        config_dir=tmp_path_factory.mktemp("hass-config"),
        log_dir=artifacts / "logs",
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture
async def browser() -> AsyncGenerator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
