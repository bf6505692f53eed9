"""Running the project in a child process with a controlled environment.

Settings are evaluated once per process, so tests of start-up behaviour (settings, system
checks) start a fresh interpreter that sees only the variables they choose.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def run_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run this interpreter with ``args`` in the project directory, seeing only ``env``.

    Only PATH and HOME are inherited, so DATABASE_URL, REDIS_URL or DEBUG set for the test
    run itself cannot leak into the child.
    """
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "DJANGO_SETTINGS_MODULE": "socialcrm.settings",
        **env,
    }
    return subprocess.run(  # noqa: S603 - argv is this interpreter plus the test's own arguments
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
