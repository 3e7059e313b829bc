"""The architecture's dependency rules, checked mechanically.

* `pipeline` is pure: it imports no MQTT, web, database or HTTP client library, none of
  `edge`/`api`/`models`/`datasets`, and reads no environment variables.
* Nothing at run time imports the training code: importing every run-time module
  leaves ultralytics and torch unloaded (an edge box carries onnxruntime, not torch).
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
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
    "siteguard.models.train",
    "siteguard.models.export",
    "siteguard.models.pseudo_label",
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


@pytest.mark.parametrize("path", sorted((REPO / "pipeline").glob("*.py")), ids=lambda p: p.name)
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


RUNTIME_DIRS = ("pipeline", "edge", "api", "cli")


@pytest.mark.parametrize(
    "path",
    sorted(p for d in RUNTIME_DIRS for p in (REPO / d).rglob("*.py")),
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
        f"siteguard.{p.stem}" if d == "cli" else f"siteguard.{d}.{p.stem}"
        for d in ("cli", "pipeline", "edge", "api")
        for p in (REPO / d).glob("*.py")
        if p.stem not in {"__init__", "__main__"}
    ] + ["siteguard.models.evaluate", "siteguard.models.quantize"]
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        "from siteguard.cli import build_parser; build_parser()\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'ultralytics')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr
