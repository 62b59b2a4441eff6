"""The walls between the apps (docs/architecture.md): apps depend downwards only, no import
hides inside a function, and the registries that carry the upward announcements are wired."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from circlework.accounts import announcements as account_announcements
from circlework.accounts import profile_parts
from circlework.circles import announcements, page_parts, tabs, two_factor
from circlework.decisions import subjects

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own tool on our own tree)
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_layers_contract_holds() -> None:
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_contract_refuses_an_upward_import(tmp_path: Path) -> None:
    """A copy of the code with one wrong turn (the bottom floor reaching up to elections) fails
    `make lint`, naming the import."""
    shutil.copytree(
        REPO / "circlework",
        tmp_path / "circlework",
        ignore=shutil.ignore_patterns("templates", "static", "locale", "__pycache__"),
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    dates = tmp_path / "circlework" / "core" / "dates.py"
    dates.write_text(dates.read_text() + "\nfrom circlework.elections import models  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "circlework.core.dates -> circlework.elections.models" in result.stdout


def _own_app_in_ready(path: Path, stack: list[ast.AST], module: str) -> bool:
    """The one named exception: an app's `AppConfig.ready` imports its own registration modules
    (they read models, which exist only once Django has loaded every app)."""
    app = ".".join(path.parts[:2])  # circlework/<app>/apps.py -> circlework.<app>
    return (
        path.name == "apps.py"
        and any(isinstance(n, ast.FunctionDef) and n.name == "ready" for n in stack)
        and module == app
    )


def _local_imports(path: Path, root: Path = REPO) -> list[str]:
    """Imports of circlework placed inside a function or class body (`path` from `root`)."""
    found: list[str] = []

    def visit(node: ast.AST, stack: list[ast.AST]) -> None:
        for child in ast.iter_child_nodes(node):
            nested = bool(stack)
            if nested and isinstance(child, ast.ImportFrom):
                module = child.module or ""
                if module.startswith("circlework") and not _own_app_in_ready(path, stack, module):
                    found.append(f"{path}:{child.lineno} from {module}")
            elif nested and isinstance(child, ast.Import):
                found.extend(
                    f"{path}:{child.lineno} import {a.name}"
                    for a in child.names
                    if a.name.startswith("circlework")
                )
            inside = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            visit(child, [*stack, child] if inside else stack)

    visit(ast.parse((root / path).read_text()), [])
    return found


def test_no_circlework_import_hides_inside_a_function() -> None:
    found = [
        line
        for folder in ("circlework", "config")
        for path in sorted((REPO / folder).rglob("*.py"))
        for line in _local_imports(path.relative_to(REPO))
    ]
    assert found == []


def test_the_exception_is_only_for_an_apps_own_modules_in_ready(tmp_path: Path) -> None:
    """The scan itself bites: an import inside a function is found, and so is an import of
    another app inside `ready`."""
    (tmp_path / "circlework" / "links").mkdir(parents=True)
    apps = tmp_path / "circlework" / "links" / "apps.py"
    apps.write_text(
        "class C:\n"
        "    def ready(self):\n"
        "        from circlework.links import registrations\n"
        "        from circlework.elections import registrations as other\n"
        "def f():\n"
        "    import circlework.core.dates\n"
    )
    assert _local_imports(apps.relative_to(tmp_path), root=tmp_path) == [
        "circlework/links/apps.py:4 from circlework.elections",
        "circlework/links/apps.py:6 import circlework.core.dates",
    ]


def test_outcomes_reach_every_subject() -> None:
    # The agreement is adopted before its link is decided, as the closing always did.
    assert subjects.handlers() == ["agreement", "link"]
    assert subjects.federation_handlers() == ["covenant"]


def test_announcements_have_their_listeners() -> None:
    heard = announcements.listeners()
    assert heard["membership_ended"] == ["mandates"]
    assert heard["circle_changed"] == ["links"]
    # Circles leaves before notifications erases the address (INSTALLED_APPS order).
    assert account_announcements.listeners() == {
        "account_deleted": ["circles", "notifications"],
        "account_notice": ["notifications"],
    }


def test_pages_below_get_their_parts_from_above() -> None:
    assert profile_parts.registered() == {
        "parts": ["circles", "standing"],
        "preview_audiences": ["circles"],
        "colleagues": ["circles"],
    }
    assert page_parts.registered() == ["standing", "gatherings"]
    assert page_parts.federation_registered() == ["gatherings"]
    assert two_factor.record_kinds() == ["elections", "gatherings", "links", "mandates"]


def test_every_app_brings_its_own_tab_in_the_old_order() -> None:
    assert tabs.registered() == {
        "circle": [
            "overview",
            "decisions",
            "agreements",
            "polls",
            "standing",
            "gatherings",
            "links",
            "mandates",
            "elections",
            "invitations",
            "history",
        ],
        "federation": [
            "overview",
            "map",
            "decisions",
            "gatherings",
            "mandates",
            "elections",
            "notices",
            "lineage",
            "covenant",
            "ethics",
        ],
    }


def test_a_federation_tab_for_members_is_not_shown_to_visitors() -> None:
    shown = [t.key for t in tabs.federation_tabs("f", "map", signed_in=False)]
    # Gatherings stays: public federation gatherings are listed to everyone.
    assert shown == ["overview", "map", "gatherings", "lineage", "covenant", "ethics"]
