"""The documents name real things: every file or folder docs/architecture.md names
exists in the repository, and every test docs/security.md cites as keeping a promise
exists in tests/; every dotted name it uses (`services.pinging.receive_ping`,
`Runtime.series_store`) is defined where it says, and every module is named in it. A
renamed module, function or test fails here instead of misleading a reader."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
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


CORE = ROOT / "layers" / "core" / "srvpulse"
FILE_SUFFIXES = {"py", "sh", "md", "json", "txt", "lock", "sqlite3", "yaml", "png"}


def _defined(tree: ast.AST) -> set[str]:
    """Names a module or class body defines: functions, classes, assignments, imports,
    and attributes set on ``self``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def _module(parts: list[str]) -> Path | None:
    # A module of the core package (named with or without `srvpulse.`, or by its own
    # name when no other module has it: `edge.ping_request_from_scope`) or of the routes
    # and handlers; `app.routes` and the like are the frameworks' attributes.
    if len(parts) == 1 and parts[0] not in sys.stdlib_module_names:
        # (tables/ modules excepted: `notifications.idem_key` is a table's column)
        same = [
            p for p in CORE.rglob(f"{parts[0]}.py") if not {"migrations", "tables"} & set(p.parts)
        ]
        same += list((ROOT / "chalicelib").glob(f"{parts[0]}.py"))
        if len(same) == 1:
            return same[0]
    for base in (CORE, ROOT):
        if base == ROOT and parts[0] not in ("chalicelib", "functions"):
            continue
        path = base.joinpath(*parts)
        if path.with_suffix(".py").is_file():
            return path.with_suffix(".py")
        if (path / "__init__.py").is_file():
            return path / "__init__.py"
    return None


def _inline_code(text: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S)))


def test_every_dotted_name_the_architecture_uses_is_defined() -> None:
    # `services.pinging.receive_ping`, `Runtime.series_store`, `CheckTx.add_series_points`:
    # the module or class named first must define the name that follows.
    classes: dict[str, set[str]] = {}
    for path in [*CORE.rglob("*.py"), *(ROOT / "chalicelib").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                classes.setdefault(node.name, set()).update(_defined(node))
    wrong = []
    for code in _inline_code((ROOT / "docs" / "architecture.md").read_text()):
        for match in re.finditer(r"(?<![\w/.-])([A-Za-z_]\w*(?:\.\w+)+)", code):
            parts = match.group(1).removeprefix("srvpulse.").split(".")
            if parts[-1] in FILE_SUFFIXES:  # a file name: `queue.sqlite3.lock`
                continue
            if parts[0] in classes:
                if parts[1] not in classes[parts[0]]:
                    wrong.append(match.group(1))
                continue
            for i in range(len(parts) - 1, 0, -1):
                module = _module(parts[:i])
                if module is not None:
                    defined = _defined(ast.parse(module.read_text()))
                    if parts[i] not in defined | {"py"} and _module(parts[: i + 1]) is None:
                        wrong.append(match.group(1))
                    break
    assert sorted(wrong) == [], f"docs/architecture.md names what the code does not define: {wrong}"


def test_every_module_is_named_in_the_architecture() -> None:
    # A new module is placed in the description (Layout or its section) when it lands.
    text = (ROOT / "docs" / "architecture.md").read_text()
    modules = [
        p
        for p in [*CORE.rglob("*.py"), *(ROOT / "chalicelib").glob("*.py")]
        if not p.name.startswith("_") and "migrations" not in p.parts
    ]
    unnamed = sorted(
        str(p.relative_to(ROOT)) for p in modules if not re.search(rf"\b{p.stem}\b", text)
    )
    assert unnamed == [], f"modules docs/architecture.md does not name: {unnamed}"


def _imports(path: Path) -> set[str]:
    """The srvpulse subpackages a module imports (``..adapters.sql`` -> ``adapters``)."""
    found = set()
    package = path.relative_to(CORE).parts[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                target = [*base, *(node.module or "").split(".")] if node.module else base
                names = [target] if node.module else [[*base, a.name] for a in node.names]
            else:
                names = [(node.module or "").split(".")]
                names = [n[1:] for n in names if n[0] == "srvpulse"]
            found |= {n[0] for n in names if n and n[0]}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("srvpulse.")}
    return found


def test_imports_go_the_way_the_layers_say() -> None:
    forbidden = {
        "domain": {"adapters", "services", "notifiers", "local", "cli", "bootstrap"},
        "services": {"adapters", "local", "cli", "bootstrap"},
        "adapters": {"services", "local", "cli", "bootstrap"},
    }
    wrong = sorted(
        f"{path.relative_to(CORE)} imports {name}"
        for layer, names in forbidden.items()
        for path in (CORE / layer).rglob("*.py")
        for name in _imports(path) & names
    )
    assert wrong == []


def test_services_and_the_domain_import_no_cloud_sql_or_http_client() -> None:
    clients = {"boto3", "botocore", "sqlalchemy", "alembic", "pymysql", "httpx", "httpcore"}
    clients |= {"urllib3", "requests", "slack_sdk", "pagerduty", "smtplib", "sqlite3"}
    wrong = []
    for layer in ("domain", "services"):
        for path in (CORE / layer).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    tops = {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    tops = {node.module.split(".")[0]}
                else:
                    continue
                wrong += [f"{path.relative_to(CORE)} imports {m}" for m in sorted(tops & clients)]
    assert wrong == []
