"""``tux-db simulate --html``: the page opens in headless Chromium and shows its charts."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from matplotlib.image import imread
from typer.testing import CliRunner

from tux.database.cli.main import app

runner = CliRunner()


def chromium() -> str:
    """Return Debian's chromium; fail under CI when it is missing (``make test`` installs it)."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (scripts/ensure-chromium.sh installs it)")
        pytest.skip("chromium is not installed; run scripts/ensure-chromium.sh")
    return found


def test_the_html_page_is_self_contained_and_renders_its_charts(tmp_path: Path) -> None:
    browser = chromium()
    page = tmp_path / "report.html"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--data-dir",
            str(tmp_path),
            "--guilds",
            "4",
            "--members",
            "30",
            "--messages",
            "300",
            "--html",
            str(page),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert text.count("<svg") == 2
    assert "<script" not in text
    assert "src=" not in text
    assert "<link" not in text
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1200,1800",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pixels = imread(shot)
    assert pixels.shape[:2] == (1800, 1200)
    rgb = pixels[..., :3]
    drawn = (rgb.min(axis=2) < 0.9).mean()
    assert drawn > 0.02, f"only {drawn:.1%} of the page is drawn (a blank page draws nothing)"
    blue = ((rgb[..., 2] > 0.8) & (rgb[..., 0] < 0.4)).sum()
    green = ((rgb[..., 1] > 0.55) & (rgb[..., 0] < 0.35) & (rgb[..., 2] < 0.45)).sum()
    assert blue > 500, "the latency chart's database boxes are not on the screenshot"
    assert green > 500, "the cached boxes / hit-rate line are not on the screenshot"
