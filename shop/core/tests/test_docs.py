"""README.md and docs/*.md stay true to the tree they describe.

The README is short and links every page of docs/; every relative link (and its anchor) resolves;
every repository path, `make` target and setting they name exists; docs/configuration.md's tuning
knobs are every THROTTLE_*, FEED_*, WEBHOOK_*, READ_CACHE_*, SEARCH_*, DB_* and WEB_* setting with
the default config/settings gives it, and every other setting is in .env.example (never both); every
code block parses in its language.
"""

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
SETTINGS = sorted((ROOT / "config" / "settings").glob("*.py"))
README_MAX_LINES = 250
# The pages the README's "Read more" must link (the list, and the storefront's own).
EXPECTED_DOCS = (
    "api",
    "feed",
    "orders",
    "operations",
    "security",
    "benchmarks",
    "configuration",
    "architecture",
    "storefront",
)
KNOB_PREFIXES = ("THROTTLE_", "FEED_", "WEBHOOK_", "READ_CACHE_", "SEARCH_", "DB_", "WEB_")
# Paths the docs name that are not in the tree on purpose.
NOT_IN_THE_TREE = {
    "requirements/audit-ignore.txt": "made by whoever first ignores an advisory; scripts/audit_deps.py reads it if present",
}
RUNTIME_DIRS = {"var"}  # made at start-up, never committed

FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", flags=re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`([^`]+)`")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", flags=re.MULTILINE)
PATH_LIKE = re.compile(r"^[\w.-]+(?:/[\w.-]+)*/?$")
SETTING_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
CAPS_WORD = re.compile(r"\b[A-Z][A-Z0-9_]*[A-Z0-9]\b")
MAKE = re.compile(r"\bmake\s+([a-z][\w-]*)")
ASSIGNMENT = re.compile(r"(?<![\w$])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)=")


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block."""
    return [(lang.strip(), body) for lang, body in FENCE.findall(markdown)]


def prose(markdown: str) -> str:
    """The text outside fenced blocks."""
    return FENCE.sub("", markdown)


def inline_code(markdown: str) -> list[str]:
    """Inline code spans of the prose, a span broken over lines joined by a space."""
    return [" ".join(span.split()) for span in INLINE_CODE.findall(prose(markdown))]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for _, heading in HEADING.findall(prose(path.read_text())):
        base = slug(heading)
        name, n = base, 0
        while name in found:  # GitHub numbers repeated headings: x, x-1, x-2
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, flags=re.MULTILINE))


def repo_path(token: str) -> str | None:
    """The repository path a code span or word names, or None when it names none: a relative path
    whose first part is a top-level entry of the repository or a package of shop/ (so
    `core/tests/test_limits.py` is shop/core/tests/test_limits.py)."""
    token = token.strip("()[],;:'\"")
    if "/" not in token or not PATH_LIKE.match(token):
        return None
    first = token.split("/", 1)[0]
    if first in RUNTIME_DIRS:
        return None
    if (ROOT / first).exists() or (ROOT / "shop" / first).is_dir():
        return token
    return None


def path_exists(path: str) -> bool:
    for base in (ROOT, ROOT / "shop"):
        candidate = base / path.rstrip("/")
        if candidate.exists() or candidate.with_name(candidate.name + ".py").exists():
            return True
    return False


def env_defaults() -> dict[str, ast.expr | None]:
    """Every variable config/settings reads through django-environ (``env.int("NAME", default=…)``),
    with its default's expression."""
    found: dict[str, ast.expr | None] = {}
    for path in SETTINGS:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "env"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                default = next((k.value for k in node.keywords if k.arg == "default"), None)
                found[node.args[0].value] = default
    return found


def constant(node: ast.expr | None) -> Any:
    """The value of a default made of literals and arithmetic (``16 * 1024``), else None (a
    default that depends on the run mode or the machine)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = constant(node.operand)
        return None if value is None else -value
    if isinstance(node, ast.BinOp):
        left, right = constant(node.left), constant(node.right)
        if isinstance(left, int | float) and isinstance(right, int | float):
            operations = {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}
            return operations.get(type(node.op))
    return None


def same_default(written: str, value: Any) -> bool:
    if isinstance(value, bool):
        return written == str(value).lower()
    if isinstance(value, int | float):
        try:
            return float(written) == float(value)
        except ValueError:
            return False
    return written == str(value)


def section(markdown: str, heading: str) -> str:
    """The text under a ``## heading``, up to the next heading of that level or above."""
    match = re.search(
        rf"^## {re.escape(heading)}\n(.*?)(?=^#{{1,2}} |\Z)", markdown, re.MULTILINE | re.DOTALL
    )
    assert match, f"no section ## {heading}"
    return match.group(1)


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of every table body row (header and rule rows left out)."""
    rows = []
    for line in markdown.splitlines():
        if not line.startswith("|") or re.fullmatch(r"\|[\s|:-]+\|", line):
            continue
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return [row for row in rows if row[0] not in ("variable", "setting")]


def test_the_readme_is_short() -> None:
    lines = len(README.read_text().splitlines())
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; depth belongs in docs/"


def test_the_readme_links_every_page_of_docs() -> None:
    linked = {target.split("#")[0] for target in LINK.findall(prose(README.read_text()))}
    pages = {f"docs/{path.name}" for path in DOCS.glob("*.md")}
    assert {f"docs/{name}.md" for name in EXPECTED_DOCS} <= pages
    assert pages <= linked, f"README does not link {sorted(pages - linked)}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(prose(page.read_text())):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, …
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {page_id(file)}")
    assert not broken, broken


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_repository_path_named_exists(page: Path) -> None:
    text = page.read_text()
    words = [span.split(" ")[0] for span in inline_code(text)]
    words += [word for _, body in code_blocks(text) for word in body.split()]
    named = {path for word in words if (path := repo_path(word))}
    missing = sorted(path for path in named if not path_exists(path) and path not in NOT_IN_THE_TREE)
    assert not missing, f"{page_id(page)} names paths that do not exist: {missing}"


def test_the_paths_left_out_of_the_tree_are_still_named() -> None:
    text = "\n".join(page.read_text() for page in PAGES)
    assert all(path in text for path in NOT_IN_THE_TREE), "drop a path no page names any more"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_make_target_named_exists(page: Path) -> None:
    text = page.read_text()
    code = inline_code(text) + [body for _, body in code_blocks(text)]
    named = {target for snippet in code for target in MAKE.findall(snippet)}
    assert not named - makefile_targets(), (
        f"{page_id(page)}: no such make target {sorted(named - makefile_targets())}"
    )


def test_every_setting_in_the_configuration_page_exists() -> None:
    text = (DOCS / "configuration.md").read_text()
    names = {span for span in inline_code(text) if SETTING_NAME.fullmatch(span)}
    names |= {name for row in table_rows(prose(text)) for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row[0])}
    known = set(CAPS_WORD.findall((ROOT / ".env.example").read_text()))
    for path in SETTINGS:
        known |= set(CAPS_WORD.findall(path.read_text()))
    assert names, "the configuration page names no setting: this test looks for the wrong thing"
    assert names <= known, f"not in .env.example nor config/settings: {sorted(names - known)}"


def known_variables() -> set[str]:
    """The environment variables the shop, its Makefile and its compose file read."""
    known: set[str] = set()
    for path in [ROOT / ".env.example", *SETTINGS, ROOT / "Makefile", ROOT / "docker-compose.yml"]:
        known |= set(CAPS_WORD.findall(path.read_text()))
    return known


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_variable_named_exists(page: Path) -> None:
    """A variable a page names in code (`WEB_QUEUE`, `FUZZ_SEED=…`, ``export REDIS_URL=…``) is one the
    shop, the Makefile or docker-compose.yml reads: none renamed or removed under the docs."""
    text = page.read_text()
    names = {span for span in inline_code(text) if SETTING_NAME.fullmatch(span)}
    code = inline_code(text) + [body for lang, body in code_blocks(text) if lang in ("sh", "bash")]
    names |= {name for snippet in code for name in ASSIGNMENT.findall(snippet)}
    unknown = sorted(names - known_variables())
    assert not unknown, f"{page_id(page)} names variables nothing reads: {unknown}"


def test_the_tuning_knobs_table_is_complete_and_its_defaults_right() -> None:
    rows = table_rows(section((DOCS / "configuration.md").read_text(), "Tuning knobs"))
    table: dict[str, str] = {}
    for row in rows:
        first = re.fullmatch(r"`([A-Z][A-Z0-9_]*)`", row[0])
        assert first, f"a tuning knob row names one setting in its first cell: {row}"
        table[first.group(1)] = row[1]
    defaults = env_defaults()
    knobs = {name for name in defaults if name.startswith(KNOB_PREFIXES)}
    assert not knobs - table.keys(), f"settings missing from the tuning knobs: {sorted(knobs - table.keys())}"
    unread = sorted(table.keys() - defaults.keys())
    assert not unread, f"not read by config/settings: {unread}"
    wrong = []
    for name, cell in table.items():
        value = constant(defaults[name])
        written = re.match(r"`([^`]*)`", cell)
        if value is not None and not (written and same_default(written.group(1), value)):
            wrong.append(f"{name}: the table says {cell!r}, config/settings {value!r}")
    assert not wrong, wrong


def test_every_setting_is_in_env_example_or_the_tuning_knobs_never_both() -> None:
    """.env.example holds what an operator sets; the tuning knobs have one place, their table."""
    read = set(env_defaults())
    example = set(re.findall(r"^#? ?([A-Z_0-9]+)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE))
    knobs = {
        first.group(1)
        for row in table_rows(section((DOCS / "configuration.md").read_text(), "Tuning knobs"))
        if (first := re.fullmatch(r"`([A-Z][A-Z0-9_]*)`", row[0]))
    }
    assert read, "no settings found"
    assert not read - example - knobs, (
        f"in neither .env.example nor the tuning knobs: {sorted(read - example - knobs)}"
    )
    assert not example & knobs, f"in .env.example and the tuning knobs: {sorted(example & knobs)}"
    assert not example - read, f"in .env.example, not read by config/settings: {sorted(example - read)}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_code_block_parses(page: Path) -> None:
    blocks = code_blocks(page.read_text())
    for lang, body in blocks:
        if lang == "python":
            compile(body, f"{page_id(page)} python block", "exec")
        elif lang == "json":
            json.loads(body)
        elif lang in ("sh", "bash"):
            bash = shutil.which("bash")
            assert bash
            result = subprocess.run([bash, "-n"], input=body, text=True, capture_output=True, check=False)
            assert result.returncode == 0, f"{page_id(page)}: {result.stderr}\n{body}"
