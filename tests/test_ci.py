""".ci/run and the Makefile targets it relies on, read as files (running them here would install
and run the suite inside the suite)."""

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / ".ci" / "run"
MAKEFILE = (ROOT / "Makefile").read_text()


def ci_commands() -> list[str]:
    """The script's lines without comments and with continuations joined."""
    text = re.sub(r"\\\n\s*", " ", CI.read_text())
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_ci_run_is_an_executable_strict_bash_script():
    assert os.access(CI, os.X_OK)
    assert CI.read_text().startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in ci_commands()
    checked = subprocess.run(["bash", "-n", str(CI)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_ci_runs_make_test_on_the_embedded_defaults_and_on_postgres_and_redis():
    lines = ci_commands()
    runs = [line for line in lines if re.search(r"\bmake test\b", line)]
    assert len(runs) == 2, runs
    embedded, external = runs
    assert "HEARTH_TEST_" not in embedded
    assert 'HEARTH_TEST_DATABASE_URL="$PG_URL"' in external
    assert 'HEARTH_TEST_REDIS_URL="$REDIS_URL"' in external
    text = "\n".join(lines)
    assert 'PG_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"' in text
    assert 'REDIS_URL="redis://127.0.0.1:6379/0"' in text
    assert any(re.search(r"\bmake lint\b", line) for line in lines)


def test_ci_fails_rather_than_skips_without_browser_or_services():
    text = "\n".join(ci_commands())
    assert "export CI=true" in text
    assert "apt-get install" in text and " chromium " in text
    assert re.search(r"\[ -x /usr/bin/chromium \] \|\| die", text)
    assert re.search(r"services_answer \|\| die", text)
    # Any failed step makes the run fail at the end.
    assert re.search(r'if \[ \$\{#failed\[@\]\} -gt 0 \]; then', text)


def recipe(target: str) -> str:
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n?)+)", MAKEFILE, re.M)
    assert match, f"no recipe for {target}"
    return match.group(1)


def test_make_targets_of_the_design_exist():
    declared = re.search(r"^\.PHONY: (.+)$", MAKEFILE, re.M).group(1).split()
    for target in ("run", "test", "api", "worker", "web", "migrate", "lint", "install"):
        assert target in declared
        assert re.search(rf"^(?:\S+ )*{target}(?: \S+)*:", MAKEFILE, re.M), target


def test_make_test_counts_no_tests_as_a_failure():
    test = recipe("test")
    assert "pytest" in test
    assert re.search(r"-eq 5 \]; then .*exit 1", test)


def test_install_is_a_file_target_resynced_only_when_the_lock_changes():
    assert re.search(r"^UV_VERSION := \d+\.\d+\.\d+$", MAKEFILE, re.M)
    assert re.search(r"^\$\(INSTALLED\): uv\.lock pyproject\.toml \| \$\(UV_STAMP\)$",
                     MAKEFILE, re.M)
    assert "$(UV) sync --frozen --inexact" in recipe("$(INSTALLED)")
    assert "-m venv" in recipe("$(PY)")
    assert "pip install --disable-pip-version-check --quiet uv==$(UV_VERSION)" in recipe(
        "$(UV_STAMP)")
    for target in ("run", "test", "migrate", "lint"):
        assert re.search(rf"^{target}: \$\(INSTALLED\)$", MAKEFILE, re.M), target
