#!/usr/bin/env python3
"""Audit the locked dependencies for known vulnerabilities (``make lint``).

Runs pip-audit on requirements/base.lock and requirements/dev.lock, exactly
as pinned (no resolution). A known vulnerability fails: exit 1, with the
package, its version, the advisory and the versions that fix it. When the
advisory database cannot be reached (no network, the service is down, or it
answers for none of the packages) the audit is skipped and says so plainly,
exit 0: CI must not fail for lack of a network, nor claim a clean audit.

An advisory the project has judged not to apply can be listed, with a reason,
in requirements/audit-ignore.txt (one id per line, ``#`` comments).
"""

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("requirements/base.lock", "requirements/dev.lock")
IGNORE_FILE = ROOT / "requirements" / "audit-ignore.txt"
UNREACHABLE = re.compile(
    r"ConnectionError|ConnectTimeout|ReadTimeout|timed out|Max retries|Name or service not known|"
    r"Temporary failure in name resolution|Network is unreachable|ServiceError|SSLError|Connection refused",
    re.IGNORECASE,
)


@dataclass
class Verdict:
    ok: bool
    lines: list[str] = field(default_factory=list)


def ignored_ids(path: Path = IGNORE_FILE) -> list[str]:
    if not path.exists():
        return []
    return [
        line.split("#", 1)[0].strip()
        for line in path.read_text().splitlines()
        if line.split("#", 1)[0].strip()
    ]


def judge(lock: str, returncode: int, stdout: str, stderr: str) -> Verdict:
    """What one pip-audit run means: vulnerable (fail), unreachable (skip, say so), clean, or broken (fail)."""
    try:
        report = json.loads(stdout)
    except ValueError:
        report = None
    if not isinstance(report, dict):
        if UNREACHABLE.search(stderr):
            reason = stderr.strip().splitlines()[-1] if stderr.strip() else "no answer"
            return Verdict(True, [f"WARNING {lock}: advisory database unreachable, NOT AUDITED ({reason})"])
        return Verdict(False, [f"ERROR {lock}: pip-audit failed (exit {returncode}):", stderr.strip()])
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    if vulnerable:
        lines = [f"FAIL {lock}: known vulnerabilities in {len(vulnerable)} of {len(dependencies)} packages:"]
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
                aliases = ", ".join(vuln.get("aliases") or [])
                lines.append(
                    f"  {dep['name']} {dep.get('version', '?')}: {vuln['id']}"
                    + (f" ({aliases})" if aliases else "")
                    + f"; fixed in {fixes}"
                )
        return Verdict(False, lines)
    if dependencies and audited == 0:
        return Verdict(
            True,
            [
                f"WARNING {lock}: advisory database unreachable or silent, NOT AUDITED "
                f"(0 of {len(dependencies)} packages could be checked: {skipped[0]['skip_reason']})"
            ],
        )
    lines = [f"ok {lock}: no known vulnerabilities in {audited} packages"]
    if skipped:
        names = ", ".join(d["name"] for d in skipped[:10])
        lines.append(f"  note: {len(skipped)} not audited (not found in the advisory database): {names}")
    return Verdict(True, lines)


def audit(lock: str, ignore: list[str]) -> Verdict:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(ROOT / lock),
        "--no-deps",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
        "--timeout",
        "20",
    ]
    for vuln_id in ignore:
        command += ["--ignore-vuln", vuln_id]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        return Verdict(True, [f"WARNING {lock}: advisory database did not answer in time, NOT AUDITED"])
    return judge(lock, done.returncode, done.stdout, done.stderr)


def main() -> int:
    ignore = ignored_ids()
    verdicts = [audit(lock, ignore) for lock in LOCKS]
    for verdict in verdicts:
        print("\n".join(verdict.lines))
    if ignore:
        print(f"  (ignored by requirements/audit-ignore.txt: {', '.join(ignore)})")
    return 0 if all(v.ok for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
