"""scripts/audit_deps.py: a vulnerability fails lint; an unreachable advisory database is said, not failed."""

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "audit_deps.py"


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(*dependencies: dict[str, Any]) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_a_known_vulnerability_fails(audit: ModuleType) -> None:
    vulnerable = {
        "name": "django",
        "version": "5.2.0",
        "vulns": [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.5"], "aliases": ["CVE-2025-1"]}],
    }
    verdict = audit.judge(
        "base.lock", 1, report(vulnerable, {"name": "redis", "version": "6", "vulns": []}), ""
    )
    assert not verdict.ok
    assert "django 5.2.0: PYSEC-2025-1 (CVE-2025-1); fixed in 5.2.5" in "\n".join(verdict.lines)


def test_a_clean_audit_passes(audit: ModuleType) -> None:
    verdict = audit.judge("base.lock", 0, report({"name": "django", "version": "5.2.19", "vulns": []}), "")
    assert verdict.ok
    assert verdict.lines == ["ok base.lock: no known vulnerabilities in 1 packages"]


def test_no_answer_for_any_package_is_a_loud_skip(audit: ModuleType) -> None:
    silent = {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited"}
    verdict = audit.judge("base.lock", 0, report(silent), "")
    assert verdict.ok
    assert "NOT AUDITED" in verdict.lines[0]


def test_no_network_is_a_loud_skip(audit: ModuleType) -> None:
    stderr = "requests.exceptions.ConnectionError: Max retries exceeded with url: /pypi/django/5.2.19/json"
    verdict = audit.judge("base.lock", 1, "", stderr)
    assert verdict.ok
    assert "advisory database unreachable, NOT AUDITED" in verdict.lines[0]


def test_any_other_failure_fails(audit: ModuleType) -> None:
    verdict = audit.judge("base.lock", 1, "", "pip_audit: error: invalid requirement: 'django=='")
    assert not verdict.ok


def test_ignored_advisories_are_read_with_comments(audit: ModuleType, tmp_path: Path) -> None:
    listed = tmp_path / "audit-ignore.txt"
    listed.write_text("# judged not to apply\nPYSEC-2025-1  # only on Windows\n\nGHSA-xxxx\n")
    assert audit.ignored_ids(listed) == ["PYSEC-2025-1", "GHSA-xxxx"]
