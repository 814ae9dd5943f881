"""The browser page end to end: ``normsim viz`` served, Debian's Chromium driven by Playwright.

Needs the viz and e2e extras and Debian's ``chromium`` on PATH (``apt-get install
chromium``); skipped with the reason otherwise. The screenshots of both pages (the region
page with its ensemble, ``normsim-viz.png``; the threshold page, ``normsim-viz-threshold.png``)
go to ``$NORMSIM_SCREENSHOT_DIR`` if set, else to pytest's temporary folder; their paths are
printed.
"""

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("solara", reason="needs the viz extra: pip install -e '.[viz]'")
playwright = pytest.importorskip(
    "playwright.sync_api", reason="needs the e2e extra: pip install -e '.[e2e]'"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CI"):  # CI installs it: a skip there would hide a gap
    pytest.fail(
        "CI needs Debian's Chromium for the end-to-end test (scripts/setup.sh)", pytrace=False
    )
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's Chromium: apt-get install chromium"
)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
START_TIMEOUT = 60.0
playwright.expect.set_options(timeout=15_000)  # four people share two cores: redraws can lag


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serve(scenario: str, folder: Path) -> Iterator[tuple[str, Path]]:
    """``normsim viz SCENARIO`` on a free port, as the README launches it; stopped after."""
    port = _free_port()
    log = folder / "server.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "normsim", "viz", scenario, "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no page at {url} after {START_TIMEOUT:.0f} s:\n{log.read_text()}")
            time.sleep(0.25)
        assert url in log.read_text()  # the command printed the page's address
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    with _serve("asean-2024", tmp_path_factory.mktemp("viz-server")) as served:
        yield served


@pytest.fixture(scope="module")
def threshold_server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    with _serve("threshold/watts-2002", tmp_path_factory.mktemp("viz-threshold")) as served:
        yield served


@pytest.fixture
def screenshots(tmp_path) -> Path:
    folder = Path(os.environ.get("NORMSIM_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _no_error(page) -> None:
    assert page.get_by_text("Traceback").count() == 0
    assert page.locator(".v-alert.error").count() == 0


def _select(page, label: str, option: str) -> None:
    page.get_by_role("button", name=re.compile(rf"^{re.escape(label)} ")).click()
    page.locator(".menuable__content__active .v-list-item").filter(
        has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")
    ).click()


def _card_image(page, title: str) -> bytes:
    card = page.locator(".normsim-card").filter(has=page.locator("h4", has_text=title))
    return card.locator("img").first.screenshot()


def _changes(read, before, timeout: float = 15.0) -> tuple[bool, float]:
    """Whether ``read()`` differs from ``before`` within the timeout, and after how long."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if read() != before:
            return True, time.monotonic() - started
        time.sleep(0.1)
    return False, timeout


def _press(page, label: str, key: str, times: int) -> None:
    slider = page.locator(".normsim-slider").filter(has_text=label)
    thumb = slider.locator(".v-slider__thumb-container")
    thumb.focus()
    for _ in range(times):
        page.keyboard.press(key)
    page.locator("body").click(position={"x": 1, "y": 1})  # focus leaves the slider


def _launch(p):
    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    return browser, browser.new_page(viewport={"width": 1500, "height": 1000})


def _screenshot(page, path: Path) -> None:
    """The whole page: Solara scrolls inside its frame, so the window is made tall enough."""
    page.set_viewport_size({"width": 1500, "height": 1900})
    page.wait_for_timeout(1500)
    page.screenshot(path=path, full_page=True)
    print(f"screenshot: {path}")


def test_region_page_end_to_end(server, screenshots):
    url, log = server
    expect = playwright.expect
    with urllib.request.urlopen(url, timeout=10) as response:
        assert "<title>normsim · asean-2024</title>" in response.read().decode()  # early
    with playwright.sync_playwright() as p:
        browser, page = _launch(p)
        try:
            page.goto(url)
            step = page.get_by_role("button", name="Step")
            step.wait_for(timeout=60_000)
            counter = page.get_by_text(re.compile(r"^Time: "))
            expect(counter).to_have_text(re.compile(r"^Time: 0\.0 · 2024"))
            expect(page.locator(".normsim-card img")).to_have_count(5, timeout=30_000)
            expect(page.get_by_text("asean-2024 · 2024")).to_be_visible()
            expect(page).to_have_title("normsim · regional norm model")
            assert page.get_by_role("tab").count() == 0  # no stray "Page 0" tab
            expect(page.get_by_text("Tipping share: 0.33")).to_be_visible()  # without focus
            expect(page.get_by_text("Solara", exact=False)).to_have_count(0)  # no badge
            _no_error(page)

            # Ten Step clicks half a second apart are ten steps.
            network = _card_image(page, "the network")
            for _ in range(10):
                step.click()
                page.wait_for_timeout(500)
            expect(counter).to_have_text(re.compile(r"^Time: 10\.0 · 2034"))
            assert _changes(lambda: _card_image(page, "the network"), network)[0]

            # Play runs on, Pause stops it; Reset returns to step 0.
            page.get_by_role("button", name="Reset").click()
            expect(counter).to_have_text(re.compile(r"^Time: 0\.0"))
            page.get_by_role("button", name="▶").click()
            pause = page.get_by_role("button", name="❚❚")
            expect(pause).to_be_visible()
            page.wait_for_timeout(1000)  # about three steps of the sixteen
            pause.click()
            expect(page.get_by_role("button", name="▶")).to_be_visible()
            expect(counter).not_to_have_text(re.compile(r"Time: 0\.0"))
            page.wait_for_timeout(800)
            paused = counter.inner_text()
            page.wait_for_timeout(1000)
            assert counter.inner_text() == paused
            page.get_by_role("button", name="Reset").click()
            expect(counter).to_have_text(re.compile(r"^Time: 0\.0"))

            # A lever moves the ensemble: its fan chart and its P.
            fan = _card_image(page, "adopter share")
            probability = page.get_by_text(re.compile(r"^P\(cascade by 2040\)$")).locator(
                "xpath=following-sibling::td[1]")
            before = probability.inner_text()
            _press(page, "Entrepreneur intensity", "PageUp", 2)
            moved, seconds = _changes(probability.inner_text, before)
            assert moved, "P(cascade) did not change with the entrepreneur's intensity"
            print(f"\nfirst ensemble update seen in the browser {seconds:.2f} s after the keys")
            label = page.get_by_text(re.compile(r"^Entrepreneur intensity: "))
            # Shown without focus; the key presses land one by one (0.40 -> 0.90 -> 1.40).
            expect(label).to_have_text("Entrepreneur intensity: 1.40")
            assert _changes(lambda: _card_image(page, "adopter share"), fan)[0]
            expect(page.get_by_text("entrepreneur intensity 1.4", exact=False)).to_be_visible(
                timeout=15_000)

            # Pinned as the baseline, the next setting is compared with it.
            page.get_by_role("button", name="Pin as baseline").click()
            expect(page.get_by_text(re.compile(r"^Baseline: asean-2024"))).to_be_visible()
            _press(page, "Tipping share", "PageUp", 1)
            expect(page.get_by_text(re.compile(r" pp \[")).first).to_be_visible(timeout=15_000)
            _no_error(page)

            # The controls follow the scenario: its years, its co-entrepreneur.
            _select(page, "Scenario", "asean-2015")  # rebuilds every control: slow when loaded
            expect(page.get_by_text("Co-entrepreneur (scenario: MYS 2015–2016)")).to_be_visible(
                timeout=30_000)
            expect(page.get_by_role("button", name=re.compile(r"^Co-entrepreneur .* MYS$"))
                   ).to_have_count(1)
            _select(page, "Scenario", "asean-2024")
            page.get_by_role("button", name="Reset").click()
            expect(counter).to_have_text(re.compile(r"^Time: 0\.0 · 2024"))
            for n in range(1, 7):
                step.click()
                expect(counter).to_have_text(re.compile(rf"^Time: {n}\.0"))
            _no_error(page)
        finally:
            _screenshot(page, screenshots / "normsim-viz.png")
            browser.close()
    assert "Traceback" not in log.read_text()


def test_threshold_page_end_to_end(threshold_server, screenshots):
    url, log = threshold_server
    expect = playwright.expect
    with playwright.sync_playwright() as p:
        browser, page = _launch(p)
        try:
            page.goto(url)
            step = page.get_by_role("button", name="Step")
            step.wait_for(timeout=60_000)
            expect(page).to_have_title("normsim · threshold model")
            counter = page.get_by_text(re.compile(r"^Step \d+ · "))
            expect(counter).to_have_text(re.compile(r"^Step 0 · 1 of 2,000 adopted"))
            expect(page.locator(".normsim-card img")).to_have_count(3, timeout=60_000)
            expect(page.get_by_text("Threshold φ (share of neighbours): 0.18")).to_be_visible()
            network = _card_image(page, "the network")
            for n in range(1, 6):
                step.click()
                expect(counter).to_have_text(re.compile(rf"^Step {n} · "))
            assert _changes(lambda: _card_image(page, "the network"), network)[0]
            page.get_by_role("button", name="▶").click()
            expect(page.get_by_text(re.compile(r"fixed point"))).to_be_visible(timeout=30_000)
            expect(page.get_by_text(re.compile(r"^P\(cascade ≥ 0\.50"))).to_be_visible()
            _no_error(page)
        finally:
            _screenshot(page, screenshots / "normsim-viz-threshold.png")
            browser.close()
    assert "Traceback" not in log.read_text()
