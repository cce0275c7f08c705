"""The deployed package holds only what runs, and azd finds the app and the templates."""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import PurePosixPath

import pytest

from tests.infra.bicep import REPO, TABLES_DIR, table_files

FUNCIGNORE = REPO / ".funcignore"

# What runs in Azure: the app, its host config, its dependencies, and the schemas
# shared/rows/schema.py reads at run time.
SHIPPED_TOP_LEVEL = {"function_app.py", "host.json", "requirements.txt", "blueprints", "shared"}


def patterns() -> list[str]:
    """The .funcignore patterns, without comments and blank lines."""
    lines = FUNCIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(relative: str) -> bool:
    """Whether ``relative`` (a POSIX path) is left out, by .gitignore-style rules.

    A pattern with a slash before its end is anchored at the root; one without matches any
    path component. A trailing slash matches directories, i.e. anything beneath them.
    """
    parts = PurePosixPath(relative).parts
    for pattern in patterns():
        assert not pattern.startswith("!"), "negated patterns are not modelled here"
        directory = pattern.endswith("/")
        body = pattern.rstrip("/").lstrip("/")
        candidates = parts[:-1] if directory else parts
        if "/" in body:
            depth = body.count("/") + 1
            deep_enough = len(parts) > depth if directory else len(parts) >= depth
            if deep_enough and fnmatch.fnmatchcase("/".join(parts[:depth]), body):
                return True
        elif any(fnmatch.fnmatchcase(part, body) for part in candidates):
            return True
    return False


@pytest.mark.parametrize(
    "path",
    [
        "tests/unit/test_schema.py",
        "tests/infra/test_packaging.py",
        "local/emulators/ingestion.py",
        "local/host/run.py",
        "bench/__main__.py",
        "infra/main.bicep",
        "infra/main.parameters.json",
        "infra/app/dcr.bicep",
        "infra/hooks/preprovision.py",
        ".venv/lib/python3.11/site-packages/x.py",
        ".venv-checkov/bin/checkov",
        "node_modules/azurite/package.json",
        "shared/__pycache__/schema.cpython-311.pyc",
        "local.settings.json",
        "local.settings.sample.json",
        "requirements-dev.txt",
        "pyproject.toml",
        "azure.yaml",
        "docs/deploy.md",
        ".azure/sentinel-bridge/.env",
        ".pre-commit-config.yaml",
    ],
)
def test_development_files_stay_out(path: str) -> None:
    """Tests, emulators, local host, benchmarks, Bicep, venvs and caches are not deployed."""
    assert ignored(path)


@pytest.mark.parametrize(
    "path",
    [
        "function_app.py",
        "host.json",
        "requirements.txt",
        "shared/rows/schema.py",
        "shared/sources/fig.py",
        "blueprints/fig.py",
        *[f"infra/tables/{p.name}" for p in table_files()],
    ],
)
def test_what_runs_is_shipped(path: str) -> None:
    """The app, its config, its requirements and the table schemas it reads are deployed."""
    assert not ignored(path)


def test_only_what_runs_is_shipped() -> None:
    """Every file in the tree that would ship is part of the app; a new folder fails here."""
    shipped = []
    for root, dirs, files in os.walk(REPO):
        here = PurePosixPath(os.path.relpath(root, REPO).replace(os.sep, "/"))
        prefix = "" if str(here) == "." else f"{here}/"
        dirs[:] = [d for d in dirs if d != ".git" and not ignored(f"{prefix}{d}/x")]
        # In a git worktree .git is a file, not a folder.
        shipped += [
            f"{prefix}{name}" for name in files if name != ".git" and not ignored(f"{prefix}{name}")
        ]
    tables = f"{TABLES_DIR.relative_to(REPO).as_posix()}/"
    strays = [
        path
        for path in shipped
        if path.split("/")[0] not in SHIPPED_TOP_LEVEL
        and not (path.startswith(tables) and path.endswith(".json"))
    ]
    assert strays == []


def test_azure_yaml_deploys_this_folder_from_these_templates() -> None:
    """azure.yaml: Bicep in infra/main.bicep; service "api" (the site's azd tag) from the root."""
    text = (REPO / "azure.yaml").read_text(encoding="utf-8")
    assert re.search(r"^infra:\n  provider: bicep\n  path: infra\n  module: main$", text, re.M)
    assert re.search(
        r"^services:\n  api:\n    project: \.\n    language: python\n    host: function$",
        text,
        re.M,
    )
