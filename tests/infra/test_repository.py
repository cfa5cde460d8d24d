"""The repository stands on its own: no tracked file holds a path of the checkout it was written in, the
interface document is linked from the README, and events/README.md describes what is in events/.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
        ).stdout.split("\0")
    except (OSError, subprocess.CalledProcessError):
        # Not a git checkout (an unpacked archive): every file outside the tool directories.
        skip = {".git", ".venv", ".aws-sam", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis"}
        return [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]
    return [ROOT / name for name in listed if name and (ROOT / name).is_file()]


def text_files() -> list[tuple[str, str]]:
    files = []
    for path in tracked_files():
        try:
            files.append((path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            continue  # images
    return files


def machine_paths() -> list[str]:
    """This checkout's own absolute path, and the user's home: neither belongs in a shipped file."""
    paths = [str(ROOT) + "/"]
    home = str(Path.home())
    if home not in ("/", "") and len(Path(home).parts) > 1:
        paths.append(home.rstrip("/") + "/")
    return paths


def occurrences(needle: str) -> list[str]:
    found = []
    for name, text in text_files():
        for number, line in enumerate(text.splitlines(), start=1):
            if needle in line:
                found.append(f"{name}:{number}: {line.strip()[:120]}")
    return found


def test_there_are_files_to_check() -> None:
    names = {name for name, _ in text_files()}
    assert {"README.md", "template.yaml", "docs/interface.md"} <= names


@pytest.mark.parametrize("path", machine_paths())
def test_no_file_holds_an_absolute_path_of_the_checkout(path: str) -> None:
    assert occurrences(path) == []


def test_the_interface_document_exists_and_is_linked_from_the_readme() -> None:
    assert (ROOT / "docs" / "interface.md").is_file()
    assert "docs/interface.md" in (ROOT / "README.md").read_text(encoding="utf-8")


# --- events/README.md describes what is in events/ -----------------------------------------------------


def test_every_sample_event_the_events_readme_names_is_in_the_folder() -> None:
    text = (ROOT / "events" / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([\w.-]+\.json)`", text))
    present = {p.name for p in (ROOT / "events").glob("*.json")}
    assert named - present == set(), "events/README.md names files that are not in events/"
    assert present - named == set(), "a sample event has no row in events/README.md"


def test_every_sample_event_is_json() -> None:
    for path in (ROOT / "events").glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
