"""What the browser tests say when the machine lacks what they need: they fail, naming it and
how to get it (never a skip)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from support import browser
from support.browser import Missing, chromium_path

pytestmark = pytest.mark.browser


def executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_chromium_path_takes_the_one_given(tmp_path: Path) -> None:
    given = executable(tmp_path / "chrome")
    assert chromium_path({"CHROMIUM_PATH": str(given)}) == str(given)


def test_a_chromium_path_that_is_not_a_program_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Missing, match=r"CHROMIUM_PATH=.*/nothing is not an executable file"):
        chromium_path({"CHROMIUM_PATH": str(tmp_path / "nothing")})


def test_without_chromium_the_message_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(browser, "CHROMIUM_CANDIDATES", (str(tmp_path / "chromium"),))
    with pytest.raises(Missing) as missing:
        chromium_path({})
    assert "apt-get install chromium" in str(missing.value)
    assert "CHROMIUM_PATH" in str(missing.value)


def test_without_axe_core_the_message_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(browser, "AXE", browser.REPO / "no" / "axe.min.js")
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm either
    with pytest.raises(Missing, match=r"install Node\.js/npm"):
        browser.axe_path()
    monkeypatch.setenv("PATH", str(executable(tmp_path / "npm").parent) + os.pathsep)
    with pytest.raises(Missing, match=r"npm ci --prefix services/desk/web"):
        browser.axe_path()
