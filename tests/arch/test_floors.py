"""The floors of the code: a lower app never imports a higher one, and no app imports another
app's underscore names (what another app needs is a public, named service).

lib < audit < org < calendar < attendance < cases < registry < {care, special, legal}
< {reports, notify} < {demo, ops}. Apps on one floor do not import each other either. Lower
apps announce what happens by signals (`attendance.signals`, `calendar.signals`,
`cases.signals`) that the higher ones connect to."""

import ast
from pathlib import Path

import baoxue

FLOORS = [["lib"], ["audit"], ["org"], ["calendar"], ["attendance"], ["cases"], ["registry"],
          ["care", "special", "legal"], ["reports", "notify"], ["demo", "ops"]]
FLOOR = {app: n for n, apps in enumerate(FLOORS) for app in apps}
ROOT = Path(baoxue.__file__).parent


def imports_of(path: Path):
    """(line, imported module, names) of every `import`/`from … import` in a file, including those
    inside functions (a lazy import is still a dependency)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, [a.name for a in node.names]


def app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "baoxue" and parts[1] in FLOOR else None


def violations():
    found = []
    for app in FLOOR:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            where = f"{path.relative_to(ROOT.parent)}"
            for line, module, names in imports_of(path):
                other = app_of(module)
                if other is None or other == app:
                    continue
                if FLOOR[other] >= FLOOR[app]:
                    found.append(f"{where}:{line} {app} imports {module} (floor {FLOOR[other]} ≥ {FLOOR[app]})")
                private = [n for n in names if n.startswith("_")]
                private += [p for p in module.split(".")[2:] if p.startswith("_")]
                if private:
                    found.append(f"{where}:{line} {app} imports underscore names {private} from {module}")
    return found


def test_it_finds_no_upward_import_and_no_borrowed_underscore_name():
    assert violations() == []


def test_it_would_see_an_upward_import(tmp_path, monkeypatch):
    """The check itself can fail: a lazy import of cases inside calendar is caught."""
    fake = tmp_path / "baoxue"
    (fake / "calendar").mkdir(parents=True)
    (fake / "calendar" / "selectors.py").write_text(
        "def f():\n    from baoxue.cases.models import Case\n    from baoxue.attendance.services import _replay\n")
    for app in FLOOR:
        (fake / app).mkdir(exist_ok=True)
    monkeypatch.setattr(__import__(__name__), "ROOT", fake)
    found = violations()
    assert any("calendar imports baoxue.cases.models" in v for v in found)
    assert any("underscore names ['_replay']" in v for v in found)


def test_every_app_is_on_a_floor():
    apps = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name not in ("templates", "static")}
    assert apps <= set(FLOOR), f"put {sorted(apps - set(FLOOR))} on a floor"
