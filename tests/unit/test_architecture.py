"""Architecture contracts, read from the import statements of the code (no service imports another, shared imports no
service, routers leave SQL to repositories, no import cycles between features).

The two KNOWN_ lists are a ratchet for the code that predates a contract: a violation not listed fails, and a listed
one that is gone fails too, so the lists only shrink (issue 14 moves the remaining queries out of the routers)."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("registry", "verification", "disbursement", "gateway")
# The gateway mounts the services in embedded mode, so it may build their apps from their settings; nothing else.
GATEWAY_MAY_IMPORT = frozenset(f"services.{s}.{m}" for s in SERVICES for m in ("app", "settings"))
# A router speaks HTTP and calls service functions: building SQL or calling a repository is a service's job.
ROUTER_FORBIDDEN_PREFIXES = ("sqlalchemy",)
ROUTER_FORBIDDEN_SUFFIXES = (".repository", ".models", ".sql")

KNOWN_ROUTER_VIOLATIONS: frozenset[tuple[str, str]] = frozenset({})
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()


def modules(top: str) -> Iterator[tuple[Path, str]]:
    """Every Python module under a top-level package (migrations excluded: they are frozen history)."""
    for path in sorted((REPO / top).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ".".join(path.relative_to(REPO).with_suffix("").parts)


def imports_of(path: Path) -> set[str]:
    """Absolute module names a file imports (at any depth: lazy imports count too). `from pkg import name` counts
    as `pkg` and, when `pkg/name.py` is a module of ours, as `pkg.name` (`from feature import repository`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            package = REPO.joinpath(*node.module.split("."))
            found.update(f"{node.module}.{a.name}" for a in node.names if (package / f"{a.name}.py").is_file())
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def feature_of(module: str) -> str:
    """`services.<service>.<feature>` of a module (a service's top-level modules count as features of their own)."""
    return ".".join(module.split(".")[:3])


def feature_graph() -> dict[str, set[str]]:
    """Which feature imports which other feature of the same service."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path, module in modules("services"):
        for target in imports_of(path):
            if not target.startswith("services."):
                continue
            here, there = feature_of(module), feature_of(target)
            if here != there and here.split(".")[1] == there.split(".")[1]:
                graph[here].add(there)
    return graph


def mutual_pairs(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """Pairs of features that reach each other (every cycle shows up as at least one such pair)."""
    reach: dict[str, set[str]] = {}
    for start in graph:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        reach[start] = seen
    return {frozenset((a, b)) for a in reach for b in reach[a] if a != b and a in reach.get(b, set())}


def test_no_service_imports_another() -> None:
    crossings = []
    for path, module in modules("services"):
        service = module.split(".")[1]
        if service not in SERVICES:
            continue  # services/cli.py runs every service by design
        for target in imports_of(path):
            parts = target.split(".")
            if parts[0] != "services" or len(parts) < 2 or parts[1] == service:
                continue
            if service == "gateway" and target in GATEWAY_MAY_IMPORT:
                continue
            crossings.append((module, target))
    assert crossings == []


def test_shared_imports_no_service() -> None:
    found = [(module, t) for path, module in modules("shared") for t in imports_of(path) if t.startswith("services")]
    assert found == []


def test_routers_leave_sql_to_repositories() -> None:
    violations = set()
    for path, _module in modules("services"):
        if path.name != "router.py":
            continue
        for target in imports_of(path):
            if target.startswith(ROUTER_FORBIDDEN_PREFIXES) or target.endswith(ROUTER_FORBIDDEN_SUFFIXES):
                violations.add((str(path.relative_to(REPO)), target))
    assert sorted(violations - KNOWN_ROUTER_VIOLATIONS) == [], "new router imports of SQL, tables or repositories"
    assert sorted(KNOWN_ROUTER_VIOLATIONS - violations) == [], "fixed: remove these from KNOWN_ROUTER_VIOLATIONS"


def test_no_import_cycles_between_features() -> None:
    cycles = mutual_pairs(feature_graph())
    assert sorted(map(sorted, cycles - KNOWN_CYCLES)) == [], "new import cycles between features"
    assert sorted(map(sorted, KNOWN_CYCLES - cycles)) == [], "cycle broken: remove it from KNOWN_CYCLES"


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert mutual_pairs(graph) == {frozenset(p) for p in (("a", "b"), ("b", "c"), ("a", "c"))}


def test_importing_a_module_from_its_package_counts_as_importing_the_module() -> None:
    found = imports_of(REPO / "services/disbursement/payments/service.py")
    assert "services.disbursement.payments.repository" in found
    assert "services.disbursement.payments.repository.get_line" not in found
