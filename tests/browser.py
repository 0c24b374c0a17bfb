"""Open a page in Debian's headless chromium: DOM after scripts, console messages, screenshot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class PageLoad:
    dom: str
    console: list[str]
    screenshot: Path


def chromium_or_skip() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; `make test` installs Debian's chromium before the tests")
        pytest.skip("chromium not installed (make test installs it)")
    return exe


def open_page(page: Path, screenshot_name: str) -> PageLoad:
    exe = chromium_or_skip()
    url = Path(page).resolve().as_uri()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / screenshot_name
    with tempfile.TemporaryDirectory() as profile:
        run = subprocess.run(
            [exe, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True, text=True, timeout=120,
        )
        console = [line for line in run.stderr.splitlines() if re.search(r":CONSOLE[:(]", line)]
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [exe, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1280,1800", url],
            capture_output=True, text=True, timeout=120,
        )
    return PageLoad(run.stdout, console, shot)
