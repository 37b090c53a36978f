"""The examples of the README and of docs/: what readers copy must not carry a password that looks
like a real one."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PLACEHOLDER = "<your password>"
# A password given in an example: a shell variable, a JSON body, a Python keyword argument.
PASSWORD_VALUES = re.compile(
    r"""[A-Z_]*PASSWORD=(?:'([^']*)'|"([^"]*)"|(\S+))"""
    r"""|"(?:password|new_password|re_password|re_new_password)"\s*:\s*"([^"]*)\""""
    r"""|\b(?:password|new_password)\s*=\s*"([^"]*)\""""
)


def code_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


def passwords(page: Path) -> list[str]:
    return [
        next(value for value in match.groups() if value is not None)
        for block in code_blocks(page.read_text())
        for match in PASSWORD_VALUES.finditer(block)
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_the_examples_show_a_placeholder_for_every_password(page: Path) -> None:
    assert set(passwords(page)) <= {PLACEHOLDER}, passwords(page)


def test_the_examples_give_passwords_at_all() -> None:
    for page in (ROOT / "README.md", ROOT / "docs" / "api.md"):
        assert passwords(page), (
            f"{page.name}'s examples give no password at all: this test looks for the wrong thing"
        )
