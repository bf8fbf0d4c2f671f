"""The integration's structure stays small: short modules whose imports run one way."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "custom_components/nomos_energy"
MAX_LINES = 450


def modules() -> dict[str, Path]:
    """Return every module of the integration by dotted name (packages by their own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Return the integration's modules that `name` imports anywhere: at the top, for type
    checking only, or inside a function."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    package = [part for part in package if part]
    prefix = "custom_components.nomos_energy"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets |= {
                alias.name.removeprefix(prefix).strip(".")
                for alias in node.names
                if alias.name.startswith(prefix)
            }
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            elif (node.module or "").startswith(prefix):
                module = (node.module or "").removeprefix(prefix).strip(".")
            else:
                continue
            for alias in node.names:
                # `from . import repairs` imports a module; `from .const import DOMAIN` a name.
                submodule = f"{module}.{alias.name}".strip(".")
                targets.add(submodule if submodule in known else module)
    return (targets & known) - {name}


def test_no_module_is_long() -> None:
    long = {
        name or "__init__": lines
        for name, path in modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_imports_run_one_way() -> None:
    """No module imports one that imports it back, directly or through others."""
    found = modules()
    graph = {name: imports(name, path, set(found)) for name, path in found.items()}
    cycles = []
    for start, direct in graph.items():
        # Every module reachable from `start`, with the path that reaches it.
        paths = {target: [start, target] for target in direct}
        queue = list(paths)
        while queue:
            current = queue.pop()
            for target in graph[current]:
                if target not in paths:
                    paths[target] = [*paths[current], target]
                    queue.append(target)
        if start in paths:
            cycles.append(" -> ".join(paths[start]))
    assert cycles == []


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Top-level, type-checking-only and function-level imports all count."""
    module = tmp_path / "planners.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from .price_coordinator import PriceCoordinator\n"
        "if TYPE_CHECKING:\n"
        "    from .coordinator import NomosConfigEntry\n"
        "def later():\n"
        "    from . import repairs\n"
        "    from custom_components.nomos_energy.nomos_client import models\n",
        encoding="utf-8",
    )
    known = {"price_coordinator", "coordinator", "repairs", "nomos_client", "nomos_client.models"}
    assert imports("planners", module, known) == known - {"nomos_client"}


def test_the_client_has_no_home_assistant_imports() -> None:
    for path in (PACKAGE / "nomos_client").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [alias.name for alias in node.names]
                )
                assert not any(name.startswith("homeassistant") for name in names), path
