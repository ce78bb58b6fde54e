"""The documents name real things: every file or folder docs/architecture.md names
exists in the repository, and every test docs/security.md cites as keeping a promise
exists in tests/. A renamed module or test fails here instead of misleading a reader."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTENSIONS = (".py", ".md", ".yaml", ".yml", ".sh", ".toml", ".json", ".txt", ".ini", ".ts", ".vue")
# Named in the docs but made by a build or at run time, never committed: what
# .gitignore lists, plus the build folders named without their parent.
GENERATED = {"dist/", "node_modules/"} | {
    line.strip().lstrip("/")
    for line in (Path(__file__).resolve().parents[2] / ".gitignore").read_text().splitlines()
    if line.strip() and not line.startswith("#")
}
PATHLIKE = re.compile(r"^[\w.-]+(/[\w.*-]+)*/?$")


def tracked() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.split()


def named_paths(text: str) -> set[str]:
    """Backticked words that are file or folder paths, and the words of the Layout
    block (a tree of paths)."""
    words = set(re.findall(r"`([^`\s]+)`", text))
    layout = re.search(r"## Layout\s*```(.*?)```", text, re.S)
    if layout:
        words |= {line.split()[0] for line in layout.group(1).splitlines() if line.strip()}
    found = set()
    for word in words:
        word = word.rstrip(",.:;")
        if not PATHLIKE.match(word) or word in GENERATED or word.startswith("."):
            continue
        if word.endswith("/") or word.endswith(EXTENSIONS):
            found.add(word)
    return found


def exists(name: str, files: list[str]) -> bool:
    """A path (relative to the root, or to any folder: the docs name modules relative
    to their package) that some file in the repository has, or a folder that holds one."""
    if name.endswith("/"):
        return any(f.startswith(name) or f"/{name}" in f for f in files)
    if "*" in name:
        pattern = re.compile(re.escape(name).replace(r"\*", "[^/]*") + "$")
        return any(pattern.search(f) for f in files)
    return any(f == name or f.endswith("/" + name) for f in files)


def test_every_file_and_folder_the_architecture_names_exists() -> None:
    files = tracked()
    text = (ROOT / "docs" / "architecture.md").read_text()
    missing = sorted(p for p in named_paths(text) if not exists(p, files))
    assert missing == [], f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_test_the_security_document_cites_exists() -> None:
    cited = set(re.findall(r"\b(test_\w+)", (ROOT / "docs" / "security.md").read_text()))
    source = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("*.py"))
    defined = set(re.findall(r"def (test_\w+)", source)) | {
        p.stem for p in (ROOT / "tests").rglob("test_*.py")
    }
    assert sorted(cited - defined) == []


def test_the_architecture_stands_on_its_own() -> None:
    # The project's document is read without the design brief next to it.
    text = (ROOT / "docs" / "architecture.md").read_text()
    assert "shared/" not in text


def test_the_architecture_lists_every_migration() -> None:
    versions = ROOT / "layers/core/srvpulse/adapters/sql/migrations/versions"
    numbers = sorted(p.name[:4] for p in versions.glob("[0-9][0-9][0-9][0-9]_*.py"))
    text = (ROOT / "docs" / "architecture.md").read_text()
    assert [n for n in numbers if n not in text] == []
