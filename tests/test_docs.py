"""The documentation for people: a short README in English and German, the rest in docs/.

The READMEs' YAML examples are run in tests/test_examples.py; here: their length, that the
German README has the same sections as the English one, that every relative link of
the READMEs and the docs pages leads to a file and heading that exist, and that the ready
dashboard of docs/dashboard.md shows entities a new installation has.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util.yaml import parse_yaml
import pytest

from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.energy import price_statistic_id, statistic_ids

from .conftest import ANNA, AddEntry
from .test_planners import add_appliance

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
README_DE = ROOT / "README.de.md"
DOCS = ROOT / "docs"
PAGES = [README, README_DE, *sorted(DOCS.glob("*.md"))]
# A homeowner reads the README to the end; reference material goes to docs/.
README_MAX_LINES = 350

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^(#{1,6}) +(.+?) *#* *$", re.MULTILINE)
# [text](target) and ![alt](target); a target has no spaces.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def prose(path: Path) -> str:
    """The page without its fenced blocks (a YAML comment is no heading, a URL there no link)."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def headings(path: Path) -> list[tuple[int, str]]:
    return [(len(marks), text) for marks, text in HEADING.findall(prose(path))]


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor; a repeated heading gets -1, -2, ... as on GitHub."""
    if path.suffix != ".md":
        return set()
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, text in headings(path):
        base = anchor(text)
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return found


def relative_links(path: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(prose(path))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


def test_anchor_follows_github() -> None:
    assert anchor("On by default, and what to enable when you need it") == (
        "on-by-default-and-what-to-enable-when-you-need-it"
    )
    assert anchor("`nomos_energy.get_prices`") == "nomos_energyget_prices"
    assert anchor("Feed-in contracts (solar)") == "feed-in-contracts-solar"
    assert anchor("Zugangsdaten von Nomos") == "zugangsdaten-von-nomos"


def test_readme_is_short() -> None:
    """At most about 350 lines; everything else lives in docs/."""
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, lines


def test_german_readme_has_the_same_sections() -> None:
    """README.de.md is the whole README in German, not a summary: heading for heading."""
    english, german = headings(README), headings(README_DE)
    assert [level for level, _ in german] == [level for level, _ in english]
    assert len(german) >= 10
    # And it is German: its headings are not the English ones.
    assert not {text for _, text in english} & {text for _, text in german}


def test_readmes_link_each_other_and_every_docs_page() -> None:
    """Both READMEs link the other at the top, and every docs page (none is orphaned)."""
    pages = {f"docs/{page.name}" for page in DOCS.glob("*.md")}
    assert len(pages) >= 7
    for readme, other in ((README, README_DE), (README_DE, README)):
        links = relative_links(readme)
        assert links[0] == other.name, readme.name
        assert pages <= {link.partition("#")[0] for link in links}, readme.name


def test_readmes_show_as_many_screenshots() -> None:
    """The German README shows a screenshot wherever the English one does (its own German
    screenshot where there is one)."""

    def shown(path: Path) -> list[str]:
        return [link for link in relative_links(path) if link.startswith("docs/images/")]

    assert len(shown(README_DE)) == len(shown(README)) > 0


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_lead_somewhere(page: Path) -> None:
    """Every relative link points at an existing file, and its #anchor at a heading there."""
    broken = []
    for target in relative_links(page):
        path, _, fragment = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        exists = destination.exists()
        if not exists or (fragment and fragment not in anchors(destination)):
            broken.append(target)
    assert not broken, broken


def test_docs_pages_lead_back_to_the_readme() -> None:
    for page in DOCS.glob("*.md"):
        assert "](../README.md)" in page.read_text(encoding="utf-8"), page.name


def test_every_blueprint_is_described() -> None:
    """docs/automations.md names every blueprint (the German variants are `<name>_de.yaml`)."""
    text = (DOCS / "automations.md").read_text(encoding="utf-8")
    blueprints = ROOT / "blueprints/automation/nomos_energy"
    english = [path.name for path in blueprints.glob("*.yaml") if not path.stem.endswith("_de")]
    assert english
    assert [name for name in english if f"`{name}`" not in text] == []


# The ready dashboard ------------------------------------------------------------------

DASHBOARD = DOCS / "dashboard.md"
GERMAN_PART = "\n## Auf Deutsch\n"
# Home Assistant's own cards: the dashboard needs nothing from HACS.
CORE_CARDS = {
    "calendar",
    "entities",
    "heading",
    "history-graph",
    "markdown",
    "statistics-graph",
    "tile",
}
ENTITY_ID = re.compile(r"\b(?:binary_sensor|button|calendar|event|sensor)\.[a-z0-9_]+\b")
STATISTIC_ID = re.compile(rf"\b{DOMAIN}:[a-z0-9_]+\b")
# What the dashboard is for (by the entities' translation keys): the price now and its
# level, today's and tomorrow's range, the cheap periods, the appliance's plan, the month.
SHOWN = {
    "current_price_ct",
    "price_level",
    "cheap_period",
    "next_cheap_start",
    "today_range",
    "tomorrow_range",
    "price_calendar",
    "run_now",
    "planned_start",
    "planned_end",
    "month_cost",
}
# Per language: the appliance's name, and the sentence that says to enable the price feed.
LANGUAGES = {
    "en": ("Dishwasher", "enable *price feed* first"),
    "de": ("Geschirrspüler", "aktiviere zuerst *preise heute und morgen*"),
}


def dashboard_part(language: str) -> str:
    """The English page, or its German section."""
    english, found, german = DASHBOARD.read_text(encoding="utf-8").partition(GERMAN_PART)
    assert found
    return german if language == "de" else english


def yaml_blocks(text: str) -> list[tuple[str, Any]]:
    return [
        (block, parse_yaml(block)) for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    ]


def cards(node: Any) -> Iterator[dict[str, Any]]:
    """Every card of a dashboard's views and sections, also the cards inside a stack."""
    if isinstance(node, list):
        for item in node:
            yield from cards(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("views", "sections"):
                yield from cards(value)
            elif key in ("cards", "card"):
                for card in value if isinstance(value, list) else [value]:
                    yield card
                    yield from cards(card)


def the_dashboard(language: str) -> tuple[str, dict[str, Any]]:
    """The part's dashboard in raw configuration editor form (one view or more)."""
    [dashboard] = [
        (text, data)
        for text, data in yaml_blocks(dashboard_part(language))
        if isinstance(data, dict) and "views" in data
    ]
    return dashboard


@pytest.mark.parametrize("language", ["en", "de"])
def test_dashboard_uses_core_cards_only(language: str) -> None:
    _, data = the_dashboard(language)
    types = {card["type"] for card in cards(data)}
    assert "calendar" in types
    assert types <= CORE_CARDS, types - CORE_CARDS
    # The two languages show the same dashboard.
    assert [card["type"] for card in cards(data)] == [
        card["type"] for card in cards(the_dashboard("en")[1])
    ]


@pytest.mark.default_entities
@pytest.mark.parametrize("language", ["en", "de"])
async def test_dashboard_entities_exist_in_a_new_installation(
    hass: HomeAssistant, add_entry: AddEntry, language: str
) -> None:
    """Anna's contract and a daily appliance, added in the page's language with only the
    entities that are on by default: every id the dashboard names is there. The one id the
    page names that is not (the ApexCharts variant's price feed) is the page's "enable it
    first", and enabling it brings it."""
    appliance, enable_first = LANGUAGES[language]
    hass.config.language = language
    entry = await add_entry(ANNA)
    await add_appliance(hass, entry, name=appliance)
    registry = er.async_get(hass)

    text, _ = the_dashboard(language)
    shown = set(ENTITY_ID.findall(text))
    assert [entity_id for entity_id in sorted(shown) if hass.states.get(entity_id) is None] == []
    keys = {registry.async_get(entity_id).translation_key for entity_id in shown}
    assert keys >= SHOWN, SHOWN - keys
    # The statistics it graphs are the contract's.
    [subscription] = entry.runtime_data.subscriptions.data.subscriptions.values()
    graphed = set(STATISTIC_ID.findall(text))
    assert graphed
    assert graphed <= {*statistic_ids(subscription), price_statistic_id(subscription)}

    # Anything else the page names: on by default, or the price feed it says to enable.
    part = dashboard_part(language)
    named = set(ENTITY_ID.findall(part))
    to_enable = sorted(entity_id for entity_id in named if hass.states.get(entity_id) is None)
    [feed] = to_enable
    feed_entry = registry.async_get(feed)
    assert feed_entry.translation_key == "price_feed"
    assert feed_entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert enable_first in part.lower()
    registry.async_update_entity(feed, disabled_by=None)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert "raw_today" in hass.states.get(feed).attributes


def test_apexcharts_variant_reads_the_price_feed() -> None:
    """The optional chart is the one custom card, and it reads the price feed's lists."""
    [(_, card)] = [
        (text, data)
        for text, data in yaml_blocks(dashboard_part("en"))
        if isinstance(data, dict) and data.get("type") == "custom:apexcharts-card"
    ]
    assert card["series"][0]["entity"] == "sensor.nomos_4x44emkx_price_feed"
    assert "raw_today" in card["series"][0]["data_generator"]
    assert "raw_tomorrow" in card["series"][0]["data_generator"]
