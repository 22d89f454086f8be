"""The layout's rules, so they cannot rot: a Rasa-free core, one-way dependencies, no cycles.

- `clinic/` (the shared core) imports neither `rasa` nor `rasa_sdk`, nor `actions`/`addons`.
- `addons/` (the Rasa server's components) imports nothing from `actions/` (the action
  server), so a change to an action can never change the NLU.
- `console/` (the staff console, in the page's web server) reads the records through
  `actions.records` and the core, and imports neither Rasa, rasa-sdk, `addons` nor `scripts`.
- No import cycles between the project's modules, function-local imports included.
- No module over about 500 lines unless its docstring says why; no `sys.path` patches.
- Side YAML files sit beside the module that reads them; clinic placeholders have one spelling.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGES = ("clinic", "actions", "addons", "console", "scripts")
MAX_LINES = 520


def _modules() -> dict[str, Path]:
    """Every first-party module by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file, function-local ones included;
    `from a.b import c` counts as a.b.c when that is a module of ours, else a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.append((full if full in MODULES else base, node.lineno))
    return out


def _first_party(name: str) -> str | None:
    """The module of ours that `name` refers to (a.b.c -> the longest known prefix)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


def _forbidden_imports(package: str, forbidden: tuple[str, ...]) -> list[str]:
    """Where modules of `package` import a top-level package in `forbidden`."""
    return [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for module, path in MODULES.items()
        if module.split(".")[0] == package
        for name, line in _imports(path)
        if name.split(".")[0] in forbidden
    ]


def test_the_core_imports_neither_rasa_nor_the_two_servers():
    problems = _forbidden_imports("clinic", ("rasa", "rasa_sdk", "actions", "addons", "scripts"))
    assert not problems, "\n".join(problems)


def test_importing_the_whole_core_loads_no_rasa_module():
    """The static check above, confirmed at run time: nothing the core imports drags Rasa in."""
    core = [m for m in MODULES if m.split(".")[0] == "clinic"]
    code = (
        "import sys, importlib\n"
        f"for m in {core!r}: importlib.import_module(m)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'rasa', 'rasa_sdk'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_rasa_server_side_imports_nothing_from_the_action_server():
    problems = _forbidden_imports("addons", ("actions", "rasa_sdk"))
    assert not problems, "\n".join(problems)


def test_the_staff_console_imports_neither_rasa_nor_the_rasa_server_side():
    problems = _forbidden_imports("console", ("rasa", "rasa_sdk", "addons", "scripts"))
    assert not problems, "\n".join(problems)


def test_importing_the_whole_console_loads_no_rasa_module():
    """The web server that serves the console stays small: no Rasa, no TensorFlow."""
    console = [m for m in MODULES if m.split(".")[0] == "console"]
    code = (
        "import sys, importlib\n"
        f"for m in {console!r}: importlib.import_module(m)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'rasa', 'rasa_sdk', 'addons', 'tensorflow'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for name, _ in _imports(path):
            target = _first_party(name)
            if target and target != module and not module.startswith(target + "."):
                graph[module].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as a list of modules, or None (iterative depth-first search)."""
    state: dict[str, int] = {}
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_no_import_cycles_counting_function_local_imports():
    """A package's __init__ re-exporting its submodules is not a cycle; anything else is."""
    graph = _graph()
    for module in graph:  # a submodule importing its own package's __init__ names
        graph[module] = {t for t in graph[module] if not module.startswith(t + ".")}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small_or_say_why(module):
    path = MODULES[module]
    lines = path.read_text(encoding="utf-8").count("\n")
    if lines > MAX_LINES:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert "on purpose" in doc, f"{path.relative_to(ROOT)}: {lines} lines and no reason"


def test_no_file_patches_sys_path():
    offenders = [
        str(path.relative_to(ROOT))
        for folder in (*PACKAGES, "tests")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"sys\.path\s*(\.insert|\.append|\[|\+?=)", path.read_text(encoding="utf-8"))
        and path.name != Path(__file__).name
    ]
    assert not offenders


def test_side_yaml_files_sit_beside_the_module_that_reads_them():
    """Every YAML file in clinic/ and actions/ is read through side_yaml(__file__, name) (or
    read_yaml for a configurable path) by a module in the same folder."""
    for package in ("clinic", "actions"):
        for yml in (ROOT / package).rglob("*.yml"):
            readers = [
                p
                for p in yml.parent.glob("*.py")
                if f'"{yml.name}"' in p.read_text(encoding="utf-8")
            ]
            assert readers, f"{yml.relative_to(ROOT)}: no module beside it reads it"


OLD_SPELLINGS = re.compile(r"\{(clinic|phone|email|address|website|hours|horizon)\}")


def test_clinic_placeholders_have_one_spelling():
    files = [
        *(ROOT / "knowledge").glob("*.yml"),
        *(ROOT / "actions").rglob("*.yml"),
        *(ROOT / "clinic").rglob("*.yml"),
    ]
    found = [
        f"{f.relative_to(ROOT)}: {m}" for f in files for m in OLD_SPELLINGS.findall(f.read_text())
    ]
    assert not found, found


def test_one_function_fills_wording_templates():
    """Templates are filled by clinic.knowledge.wording.fill alone (it adds the clinic's
    placeholders and the `_lower` forms), never by a str.format of their own."""
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("actions", "addons", "clinic")
        for path in (ROOT / folder).rglob("*.py")
        if path != ROOT / "clinic" / "knowledge" / "wording.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.format(_map)?\(", line)
    ]
    assert not offenders, offenders
