"""The architecture's dependency rules, checked mechanically.

* `pipeline` is pure: it imports no MQTT, web, database or HTTP client library, none of
  `edge`/`api`/`models`/`datasets`, and reads no environment variables.
* `contract` (what crosses edge <-> API) imports pydantic and the standard library only.
* `edge` never imports `api`, `api` never imports `edge` or `pipeline`: they meet in
  `contract`.
* FastAPI (and Starlette) only in `api`'s route modules (`routes.py`, `*_routes.py`), its
  dependencies (`deps.py`) and the app; nothing but the app and the console's router
  imports a route module.
* Nothing at run time imports the training code: importing every run-time module
  leaves ultralytics and torch unloaded (an edge box carries onnxruntime, not torch); the
  shipped-model registry is apart from the training code.
* The tests import their helpers as a package (`tests.support`), never through sys.path,
  and the benchmarks do not import the tests.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

PIPELINE_FORBIDDEN = (
    "paho",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "requests",
    "httpx",
    "aiohttp",
    "ultralytics",
    "torch",
    "siteguard.edge",
    "siteguard.api",
    "siteguard.models",
    "siteguard.datasets",
)
TRAINING_ONLY = (
    "ultralytics",
    "torch",
    "siteguard.models.training.train",
    "siteguard.models.training.export",
    "siteguard.models.training.pseudo_label",
)


def imports_of(path: Path, module_level_only: bool = False) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text("utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    out = []
    for node in nodes:
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


def matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


RUNTIME_DIRS = ("contract", "pipeline", "edge", "api", "cli")
# folder -> import name (the root package `siteguard` is cli/)
IMPORT_NAMES = {"cli": "siteguard", **{d: f"siteguard.{d}" for d in RUNTIME_DIRS[:-1]}}


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO)
    parts = [IMPORT_NAMES[rel.parts[0]], *rel.parts[1:-1]]
    if path.stem != "__init__":
        parts.append(path.stem)
    return ".".join(parts)


def py_files(folder: str) -> list[Path]:
    return sorted(p for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", py_files("pipeline"), ids=lambda p: p.name)
def test_pipeline_is_pure(path):
    bad = [
        f"{path.name}:{ln} imports {m}"
        for ln, m in imports_of(path)
        if matches(m, PIPELINE_FORBIDDEN)
    ]
    assert not bad, bad
    tree = ast.parse(path.read_text("utf-8"))
    env = [
        f"{path.name}:{n.lineno}"
        for n in ast.walk(tree)
        if (isinstance(n, ast.Attribute) and n.attr in {"environ", "getenv"})
        or (isinstance(n, ast.Name) and n.id in {"environ", "getenv"})
    ]
    assert not env, f"pipeline reads environment variables at {env}"


def test_contract_needs_nothing_but_pydantic():
    allowed = ("pydantic", "siteguard.contract", "__future__")
    bad = [
        f"{p.name}:{ln} imports {m}"
        for p in py_files("contract")
        for ln, m in imports_of(p)
        if not matches(m, allowed) and m.split(".")[0] not in sys.stdlib_module_names
    ]
    assert not bad, bad


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("edge", ("siteguard.api",)),
        ("api", ("siteguard.edge", "siteguard.pipeline")),
        ("contract", ("siteguard.edge", "siteguard.api", "siteguard.pipeline", "numpy", "cv2")),
        # demo and reference tooling (siteguard.demo) stays out of the service packages
        ("api", ("siteguard.demo",)),
        ("edge", ("siteguard.demo",)),
        ("pipeline", ("siteguard.demo",)),
        ("models", ("siteguard.demo",)),
    ],
)
def test_edge_and_api_meet_only_in_the_contract(folder, forbidden):
    bad = [
        f"{p.relative_to(REPO)}:{ln} imports {m}"
        for p in py_files(folder)
        for ln, m in imports_of(p)
        if matches(m, forbidden)
    ]
    assert not bad, bad


def is_route_module(path: Path) -> bool:
    return path.name == "routes.py" or path.name.endswith("_routes.py")


def test_fastapi_only_in_routes_deps_and_the_app():
    web = ("fastapi", "starlette")
    allowed = {REPO / "api" / "app.py"}
    bad = [
        f"{p.relative_to(REPO)}:{ln} imports {m}"
        for d in RUNTIME_DIRS
        for p in py_files(d)
        for ln, m in imports_of(p)
        if matches(m, web) and not (is_route_module(p) or p.name == "deps.py" or p in allowed)
    ]
    assert not bad, bad


def test_no_module_imports_a_route_module():
    routers = {module_name(p) for p in py_files("api") if is_route_module(p)}
    importers = {REPO / "api" / "app.py", REPO / "api" / "console" / "routes.py"}
    bad = [
        f"{p.relative_to(REPO)}:{ln} imports {m}"
        for d in RUNTIME_DIRS
        for p in py_files(d)
        for ln, m in imports_of(p)
        if p not in importers
        and (m in routers or any(f"{m}.{n}" in routers for n in from_names(p, m)))
    ]
    assert not bad, bad


def from_names(path: Path, module: str) -> list[str]:
    """The names imported by ``from module import a, b`` in path (submodules included)."""
    tree = ast.parse(path.read_text("utf-8"))
    return [
        a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == module
        for a in n.names
    ]


def test_the_model_registry_is_apart_from_the_training_code():
    bad = [m for _ln, m in imports_of(REPO / "models" / "registry.py") if matches(m, TRAINING_ONLY)]
    assert not bad and not matches("siteguard.models.registry", ("siteguard.models.training",))
    training = [
        p.name for p in (REPO / "models").glob("*.py") if p.stem not in {"__init__", "registry"}
    ]
    assert not training, f"training code outside models/training: {training}"


def test_tests_use_no_sys_path_and_benchmarks_do_not_import_tests():
    inserts = [
        str(p.relative_to(REPO))
        for p in (REPO / "tests").rglob("*.py")
        if "sys.path" in p.read_text("utf-8") and p.name != "test_dependency_rules.py"
    ]
    assert not inserts, f"sys.path edited in {inserts}"
    bench = [
        f"{p.name}:{ln} imports {m}"
        for p in (REPO / "bench").glob("*.py")
        for ln, m in imports_of(p)
        if matches(m, ("tests", "services", "onnx_factory", "browser", "conftest"))
    ] + [p.name for p in (REPO / "bench").glob("*.py") if "sys.path" in p.read_text("utf-8")]
    assert not bench, bench


@pytest.mark.parametrize(
    "path",
    [p for d in RUNTIME_DIRS for p in py_files(d)],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_runtime_modules_do_not_import_training_code_at_module_level(path):
    bad = [
        f"{ln}: {m}"
        for ln, m in imports_of(path, module_level_only=True)
        if matches(m, TRAINING_ONLY)
    ]
    assert not bad, bad


def test_importing_every_runtime_module_loads_no_torch():
    mods = [
        module_name(p)
        for d in RUNTIME_DIRS
        for p in py_files(d)
        if p.stem != "__main__" and "migrations" not in p.parts
    ] + [
        "siteguard.models.registry",
        "siteguard.models.training.evaluate",
        "siteguard.models.training.quantize",
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        "from siteguard.cli import build_parser; build_parser()\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'ultralytics')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr
