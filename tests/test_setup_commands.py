"""The README's two set-up commands, as a new user on a stock Debian runs them (issue 17 item 13)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import PROJECT_ROOT

DEBIAN_PYTHON = Path("/usr/bin/python3")


def setup_commands() -> list[str]:
    """The shell commands of the README's "Set-up" section (fenced ``bash`` blocks)."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return [
        line.strip()
        for block in re.findall(r"```bash\n(.*?)```", section, re.S)
        for line in block.splitlines()
    ]


def test_the_readme_has_exactly_two_set_up_commands_and_no_bare_pip() -> None:
    assert setup_commands() == ["bash scripts/run.sh", "bash scripts/test.sh"]
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    assert "apt" in section  # it says that the test command installs Debian packages with apt
    for script in ("scripts/run.sh", "scripts/test.sh"):
        text = (PROJECT_ROOT / script).read_text(encoding="utf-8")
        assert "atlas_venv" in text and not re.search(r"^\s*(python3 -m )?pip install", text, re.M)


def test_the_virtual_environment_is_made_with_debians_own_python(tmp_path: Path) -> None:
    """Debian's python3 refuses ``pip install`` outside a virtual environment (PEP 668); the scripts make
    one with it (no other Python on PATH) and install there."""
    assert DEBIAN_PYTHON.exists(), "a Debian machine has /usr/bin/python3"
    venv = tmp_path / "venv"
    script = (
        "source scripts/venv.sh && atlas_venv --no-install && "
        'python -c "import sys; print(sys.prefix); print(sys.base_prefix)" && python -m pip --version'
    )
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ATLAS_VENV": str(venv)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    prefix, base_prefix, pip = result.stdout.splitlines()[:3]
    assert Path(prefix) == venv and base_prefix == "/usr" and pip.startswith("pip ")
    shutil.rmtree(venv)
