"""Check the integration against a Home Assistant wheel it cannot run on.

Home Assistant 2026.11 needs Python 3.14, and several of its modules use
3.14-only syntax, so this check reads the wheel as text: every Home Assistant
name the integration imports must be defined there, and no call that the
reference lists as removed or deprecated by 2026.11 may appear.

Usage: python script/check_ha_compat.py WHEEL [INTEGRATION_DIR]
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
import re
import sys
import zipfile

# Calls and names that break, or are deprecated, between 2026.2 and 2026.11
# (../shared/reference/home-assistant.md, section 4.3), with what to do instead.
FORBIDDEN: tuple[tuple[str, str], ...] = (
    (r"\basync_forward_entry_setup\(", "removed in 2025.6: use async_forward_entry_setups"),
    (r"\bshow_advanced_options\b", "deprecated in 2026.5"),
    (r"\basync_unload_platforms_or_raise\b", "absent before 2026.11: use async_unload_platforms"),
    (
        r"\b(verify_domain_control|async_extract_entity_ids|async_extract_config_entry_ids"
        r"|async_extract_entities|extract_entity_ids)\(\s*hass\b",
        "the hass-first form was removed in 2026.10",
    ),
    (r"\bServiceTargetSelector\b", "removed: use homeassistant.helpers.target"),
    (
        r"\bservice\.(SelectedEntities|async_extract_referenced_entity_ids)\b",
        "removed: use helpers.target",
    ),
    (r"\bvia_device\b", "renamed to via_device_id in 2026.8; avoid it"),
    (r"\bsuggested_area\b", "removed in 2026.9"),
    (r"\bdefault_(manufacturer|model|name)\s*=", "deprecated DeviceInfo keys"),
    (r"\bOAuth2TokenRequestTransientError\b", "not importable from the OAuth helper on 2026.11"),
    (r"\bhass\.helpers\.", "removed in 2025.5"),
    (r"\basync_add_hass_job\b", "removed in 2025.5"),
    (r"\brun_immediately\s*=", "removed in 2025.5"),
    (
        r"ConfigEntryNotReady\([^)]*retry_after",
        "ConfigEntryNotReady takes no retry_after on 2026.2",
    ),
    (r"async_get_device\(\s*identifiers\s*=", "deprecated in 2026.8"),
    (r"\badd_update_listener\(", "update listeners break OAuth entries (reload helpers, 2026.12)"),
    (r"\basync_get_access_token\(", "OAuth2Session has no async_get_access_token"),
    (r"\bself\.config_entry\s*=", "assigning OptionsFlow.config_entry breaks since 2025.12"),
)


@dataclass(frozen=True)
class Problem:
    """One incompatibility, with where it is."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        """Format like a compiler message."""
        return f"{self.path}:{self.line}: {self.message}"


class Wheel:
    """Text access to the modules of a Home Assistant wheel."""

    def __init__(self, path: Path) -> None:
        """Index the wheel's files."""
        self._zip = zipfile.ZipFile(path)
        self._names = set(self._zip.namelist())

    def module_source(self, module: str) -> str | None:
        """Return a module's source, or None when the module does not exist."""
        base = module.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}/__init__.py"):
            if candidate in self._names:
                return self._zip.read(candidate).decode()
        return None

    def is_package_member(self, module: str, name: str) -> bool:
        """Return whether module.name is itself a module."""
        return self.module_source(f"{module}.{name}") is not None

    def defines(self, module: str, name: str) -> bool:
        """Return whether `name` is defined or imported at module level."""
        if self.is_package_member(module, name):
            return True
        source = self.module_source(module)
        if source is None:
            return False
        escaped = re.escape(name)
        patterns = (
            rf"^\s*(async\s+)?def\s+{escaped}\b",
            rf"^\s*class\s+{escaped}\b",
            rf"^{escaped}\s*(:|=)",
            rf"^type\s+{escaped}\b",
            rf"^\s*import\s+[^\n]*\b{escaped}\b",
            rf"^\s*from\s+\S+\s+import\s+[^(\n]*\b{escaped}\b",
            rf"\bas\s+{escaped}\b",
        )
        if any(re.search(pattern, source, re.MULTILINE) for pattern in patterns):
            return True
        for block in re.findall(r"^\s*from\s+\S+\s+import\s+\(([^)]*)\)", source, re.MULTILINE):
            if re.search(rf"\b{escaped}\b", block):
                return True
        return False


def _imports(tree: ast.AST) -> tuple[list[tuple[int, str, str]], dict[str, str]]:
    """Return (line, module, name) for `from homeassistant... import name`, and module aliases."""
    names: list[tuple[int, str, str]] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("homeassistant")
        ):
            for alias in node.names:
                names.append((node.lineno, node.module, alias.name))
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("homeassistant"):
                    aliases[alias.asname or alias.name] = alias.name
    return names, aliases


def check(wheel: Wheel, integration: Path) -> list[Problem]:
    """Return every incompatibility of the integration with the wheel."""
    problems: list[Problem] = []
    for path in sorted(integration.rglob("*.py")):
        source = path.read_text()
        shown = str(path)
        tree = ast.parse(source, filename=shown)
        names, aliases = _imports(tree)
        for line, module, name in names:
            if wheel.module_source(module) is None:
                problems.append(Problem(shown, line, f"module {module} does not exist"))
            elif not wheel.defines(module, name):
                problems.append(Problem(shown, line, f"{module} does not define {name}"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                target = aliases.get(node.value.id)
                if (
                    target
                    and wheel.module_source(target) is not None
                    and not wheel.defines(target, node.attr)
                ):
                    problems.append(
                        Problem(shown, node.lineno, f"{target} does not define {node.attr}")
                    )
        for pattern, why in FORBIDDEN:
            for match in re.finditer(pattern, source):
                line = source.count("\n", 0, match.start()) + 1
                problems.append(Problem(shown, line, f"{match.group(0).strip()!r}: {why}"))
    return problems


def main(argv: list[str]) -> int:
    """Run the check and print what it finds."""
    if len(argv) not in (2, 3):
        print(__doc__)
        return 2
    wheel_path = Path(argv[1])
    integration = Path(argv[2] if len(argv) == 3 else "custom_components/nomos_energy")
    problems = check(Wheel(wheel_path), integration)
    for problem in problems:
        print(problem)
    if problems:
        print(f"check-ha-compat: {len(problems)} problem(s) against {wheel_path.name}")
        return 1
    print(f"check-ha-compat: {integration} is compatible with {wheel_path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
