"""The README's examples: what readers copy must not carry a password that looks like a real one."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = "<your password>"
# A password given in an example: a shell variable, a JSON body, a Python keyword argument.
PASSWORD_VALUES = re.compile(
    r"""[A-Z_]*PASSWORD=(?:'([^']*)'|"([^"]*)"|(\S+))"""
    r"""|"(?:password|new_password|re_password|re_new_password)"\s*:\s*"([^"]*)\""""
    r"""|\b(?:password|new_password)\s*=\s*"([^"]*)\""""
)


def code_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


def test_the_readme_examples_show_a_placeholder_for_every_password() -> None:
    readme = (ROOT / "README.md").read_text()
    found = [
        next(value for value in match.groups() if value is not None)
        for block in code_blocks(readme)
        for match in PASSWORD_VALUES.finditer(block)
    ]
    assert found, "the README's examples give no password at all: this test looks for the wrong thing"
    assert set(found) == {PLACEHOLDER}, found
