"""The house rules: which package may import which (read from the source, every import).

Online code (what a live trial loads on the Pi) never reaches offline code (training,
PyTorch) or the simulator; the wire never reaches the runtime; nothing imports in a
circle. Each rule names the offending import when it breaks.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("firmware_bridge", "edge")

#: What the live loop may import from this project.
RUNTIME_MAY_IMPORT = (
    "edge.model",
    "edge.events",
    "edge.clock",
    "edge.store",
    "edge.errors",
    "edge.runtime",
    "edge.strides",
    "firmware_bridge",
)
#: The online side below the loop: none of them imports the loop, training, the CLI or sim.
ONLINE = ("edge.model", "edge.events", "edge.clock", "edge.store", "edge.runtime", "edge.strides")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def imports_of(name: str, source: str | None = None) -> set[str]:
    """Every project module that ``name`` imports anywhere (top level, in functions, under
    TYPE_CHECKING): ``from a.b import c`` counts as ``a.b.c`` when that is a module.
    ``source``: the module's text (default: its file)."""
    tree = ast.parse(MODULES[name].read_text() if source is None else source)
    package = name if _is_package(name) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join([*base, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            targets = [
                f"{mod}.{a.name}" if f"{mod}.{a.name}" in MODULES else mod for a in node.names
            ]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:  # `import a.b.c` where c is a name: the module
                t = t.rpartition(".")[0]
            if t and t.split(".")[0] in PACKAGES:
                found.add(t)
    return found


def _inside(name: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _violations(rule: Callable[[str, str], bool]) -> list[str]:
    return [f"{m} imports {t}" for m in MODULES for t in sorted(imports_of(m)) if rule(m, t)]


def runtime_rule(m: str, t: str) -> bool:
    """True when ``m`` (in the live loop) imports ``t`` against the rules."""
    return _inside(m, "edge.runtime") and (
        not _inside(t, RUNTIME_MAY_IMPORT) or _inside(t, "firmware_bridge.sim")
    )


def test_the_wire_never_imports_edge() -> None:
    assert _violations(lambda m, t: _inside(m, "firmware_bridge") and _inside(t, "edge")) == []


def test_the_wire_core_never_imports_the_simulator() -> None:
    def rule(m: str, t: str) -> bool:
        return (
            _inside(m, "firmware_bridge")
            and not _inside(m, "firmware_bridge.sim")
            and (_inside(t, "firmware_bridge.sim"))
        )

    assert _violations(rule) == []


def test_the_runtime_imports_only_model_events_clock_store_and_the_wire() -> None:
    assert _violations(runtime_rule) == []


def test_the_online_side_never_imports_training_cli_or_sim() -> None:
    offline = (
        "edge.training", "edge.cli", "firmware_bridge.sim", "edge.export", "edge.config",
        "edge.compare",
    )  # fmt: skip

    def rule(m: str, t: str) -> bool:
        below_runtime = _inside(m, ONLINE) and not _inside(m, "edge.runtime")
        return (_inside(m, ONLINE) and _inside(t, offline)) or (
            below_runtime and _inside(t, "edge.runtime")
        )

    assert _violations(rule) == []


def test_only_the_cli_imports_training_and_the_simulator() -> None:
    """Training reads recorded walks (:mod:`firmware_bridge.sim.walks`: one loader for the
    walks the simulator streams and the data set it learns from), nothing else of sim."""

    def rule(m: str, t: str) -> bool:
        if _inside(m, ("edge.cli", "edge.training", "firmware_bridge.sim")):
            return (
                _inside(m, "edge.training")
                and _inside(t, "firmware_bridge.sim")
                and (t != "firmware_bridge.sim.walks")
            )
        return _inside(t, ("edge.training", "firmware_bridge.sim"))

    assert _violations(rule) == []


def test_no_import_cycles() -> None:
    """No module reaches itself through the imports it names (a package's ``__init__`` being
    run before its modules is Python's own order, not an edge here)."""
    graph = {m: imports_of(m) - {m} for m in MODULES}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append([*path[path.index(t) :], t])
            elif t not in state:
                visit(t)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert cycles == [], "\n".join(" → ".join(c) for c in cycles)


def test_the_rules_catch_the_old_runtime_import() -> None:
    """The live loop once imported the detector from offline scoring, and in functions
    too; the reader sees both, and the runtime rule refuses them."""
    for src in (
        "from edge.training.evaluate import activate, make_detector\n",
        "def f():\n    from ..training import evaluate\n",
        "import firmware_bridge.sim.insole\n",
    ):
        found = imports_of("edge.runtime.recorder", src)
        assert found, src
        assert any(runtime_rule("edge.runtime.recorder", t) for t in found), (src, found)
    assert not any(runtime_rule("edge.runtime.recorder", t) for t in imports_of("edge.runtime"))


@pytest.mark.parametrize(
    "module",
    ["edge", "edge.runtime", "edge.store", "edge.model.files", "edge.cli", "firmware_bridge"],
)
def test_online_modules_load_no_offline_code(module: str) -> None:
    """What a live trial loads (and ``gaitedge`` before it picks a command) holds no
    training code, simulator, PyTorch or pyarrow."""
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'pyarrow')\n"
        "             or m.startswith(('edge.training', 'firmware_bridge.sim')))\n"
        "print(' '.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"import {module} loaded: {out.stdout.strip()}"
