"""The page in a real browser: ``zoo demo`` as a subprocess (smoke weights, offline), headless Debian chromium
driven by selenium (its fake camera as the webcam): a bad upload's error, upload -> stylise -> compare ->
download for each family, Stop and a closed tab cancelling a Gatys job (one progress display while it runs),
the examples, a webcam snapshot, the live webcam, a video with --temporal. Skipped where chromium,
chromedriver or selenium are missing (``pytest -m browser`` runs only this).
``ZOO_DEMO_SCREENSHOTS=docs`` also writes the page's screenshots there (demo.png, demo-video.png,
demo-webcam.png)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import zoo.demo
from conftest import REPO, make_image

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)", allow_module_level=True)
pytest.importorskip("gradio")
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from zoo.options import page_options  # noqa: E402
from test_demo import WAIT, adain_weights, free_port, write_clip  # noqa: E402

# The families, the one with the most controls last (gatys): the screenshot shows its options.
FAMILIES = sorted(zoo.FAMILIES.names(), key=lambda f: len(zoo.demo.CONTROLS[f]))
CONTROLLED = [o.name for o in page_options() if o.kind != "video"]  # shown or hidden by the model
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
SHOTS = os.environ.get("ZOO_DEMO_SCREENSHOTS")


class Page:
    """``zoo demo`` with smoke weights on a free port; its stdout lines are collected as they come."""

    def __init__(self, home: Path) -> None:
        env = dict(os.environ, HF_HUB_OFFLINE="1", TORCH_HOME=str(home / "torch"), HF_HOME=str(home / "hf"),
                   HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", PYTHONWARNINGS="ignore",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        env.pop("GRADIO_TEMP_DIR", None)
        port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zoo", "demo", "--port", str(port), "--max-size", "64", "--weights", "random",
             "--weights", f"adain={adain_weights(home / 'adain')}", "--backbone-weights", "none"],
            cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{port}/"
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.readers = [threading.Thread(target=self._read, args=(pipe, into), daemon=True)
                        for pipe, into in ((self.proc.stdout, self.lines), (self.proc.stderr, self.errors))]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _read(pipe, into: list[str]) -> None:
        for line in iter(pipe.readline, ""):
            into.append(line)

    def said(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The server; stopped with Ctrl-C (SIGINT) at the end, which must exit cleanly."""
    server = Page(tmp_path_factory.mktemp("home"))
    deadline = time.monotonic() + WAIT
    while True:
        try:
            NO_PROXY.open(server.url, timeout=2).close()
            break
        except OSError:
            if server.proc.poll() is not None or time.monotonic() > deadline:
                server.proc.kill()
                pytest.fail(f"zoo demo did not start: {''.join(server.errors)[-2000:]}")
            time.sleep(0.5)
    yield server
    server.proc.send_signal(signal.SIGINT)
    server.proc.wait(timeout=WAIT)
    for reader in server.readers:
        reader.join(WAIT)
    err = "".join(server.errors)
    assert server.proc.returncode == 0, err[-2000:]
    assert server.lines[0].startswith(f"zoo demo: serving {server.url[:-1]} (Ctrl-C stops it)"), server.lines
    assert server.lines[-1] == "zoo demo: stopped\n" and "Traceback" not in err, (server.lines, err[-2000:])


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless chromium with a fake camera, that saves downloads to its ``download_dir`` attribute."""
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    driver.download_dir = downloads
    yield driver
    driver.quit()


def wait(driver, condition, timeout=WAIT):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda _: condition())


def status(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "#status textarea").get_attribute("value")


def errors(driver) -> list[str]:
    """The texts of the error toasts shown."""
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".toast-body.error") if e.is_displayed()]


def close_toasts(driver) -> None:
    for button in driver.find_elements(By.CSS_SELECTOR, ".toast-body .toast-close"):
        if button.is_displayed():
            button.click()


def upload(driver, elem_id: str, path: Path) -> None:
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, f"#{elem_id} input[type=file]"))[0].send_keys(str(path))


def clear(driver, elem_id: str) -> None:
    for button in driver.find_elements(By.CSS_SELECTOR, f"#{elem_id} button[aria-label=Clear]"):
        button.click()


def choose_model(driver, name: str) -> None:
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#model input"))[0].click()
    option = f"//li[@role='option' and starts-with(@aria-label, '{name} (')]"
    wait(driver, lambda: driver.find_elements(By.XPATH, option))[0].click()
    assert driver.find_element(By.CSS_SELECTOR, "#model input").get_attribute("value").startswith(f"{name} (")


def set_number(driver, elem_id: str, value: int) -> None:
    box = wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, f"#{elem_id} input[type=number]"))[0]
    box.clear()
    box.send_keys(str(value), Keys.TAB)


def shown(driver, elem_id: str) -> bool:
    found = driver.find_elements(By.ID, elem_id)
    return bool(found) and found[0].is_displayed()


def camera_streams(driver, elem_id: str) -> bool:
    """Whether the (fake) camera of the element ``elem_id`` shows frames."""
    return driver.execute_script(f"const v = document.querySelector('#{elem_id} video'); "
                                 "return !!v && v.readyState >= 2 && v.videoWidth > 0")


def screenshot(driver, name: str) -> None:
    """A 64-colour palette PNG of the page into $ZOO_DEMO_SCREENSHOTS (small enough to commit)."""
    if SHOTS:
        path = Path(SHOTS) / name
        driver.save_screenshot(str(path))
        Image.open(path).convert("RGB").quantize(64).save(path, optimize=True)


def progress_displays(driver) -> int:
    """How many progress displays (Gradio's status trackers showing a running event) are visible."""
    return sum(1 for e in driver.find_elements(By.CSS_SELECTOR, "[data-testid=status-tracker]")
               if e.is_displayed() and "hide" not in (e.get_attribute("class") or "") and e.text.strip())


def start_long_gatys(driver, tmp_path: Path) -> None:
    upload(driver, "content", make_image(tmp_path / "photo.png", (80, 60), seed=1))
    wait(driver, lambda: status(driver) == "photo.png: 80x60 (reduced to --max-size 64)")
    choose_model(driver, "gatys")
    wait(driver, lambda: shown(driver, "style"))
    upload(driver, "style", make_image(tmp_path / "style.png", (40, 40), seed=2))
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#style td.filename"))
    set_number(driver, "steps", 2000)
    driver.find_element(By.ID, "stylise").click()
    wait(driver, lambda: "optimising" in driver.find_element(By.ID, "result").text)  # "16/2k steps | optimising"


def test_a_bad_upload_is_shown_as_an_error(page, browser, tmp_path):
    browser.get(page.url)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture\n")
    upload(browser, "content", notes)
    wait(browser, lambda: any("notes.txt: not an image, or a format Pillow cannot read" in e for e in errors(browser)))
    assert all("/" not in e.split("\n", 2)[-1] for e in errors(browser))  # no server path
    close_toasts(browser)
    clear(browser, "content")


def test_upload_stylise_compare_download_each_family(page, browser, tmp_path):
    browser.get(page.url)
    upload(browser, "content", make_image(tmp_path / "photo.png", (80, 60), seed=1))
    wait(browser, lambda: status(browser) == "photo.png: 80x60 (reduced to --max-size 64)")
    assert not shown(browser, "temporal") and not shown(browser, "result_video")  # no video box for a picture

    for family in FAMILIES:
        choose_model(browser, family)
        # the controls of the options the family's record takes, and only those
        wait(browser, lambda: all(shown(browser, n) == (n in zoo.demo.CONTROLS[family]) for n in CONTROLLED))
        if "style" in zoo.demo.CONTROLS[family] and not browser.find_elements(By.CSS_SELECTOR, "#style td.filename"):
            upload(browser, "style", make_image(tmp_path / "style.png", (40, 40), seed=2))  # kept for the next
            wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#style td.filename"))
        if "steps" in zoo.demo.CONTROLS[family]:
            set_number(browser, "steps", 3)
        browser.find_element(By.ID, "stylise").click()
        wait(browser, lambda: status(browser).startswith(f"{family}:") or errors(browser))
        assert status(browser).startswith(f"{family}: 64x48 in "), (status(browser), errors(browser))

        name = f"photo-{family}.png"
        wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, f"#download a[download='{name}']"))[0].click()
        wait(browser, lambda: (browser.download_dir / name).is_file(), timeout=60)
        downloaded = np.asarray(Image.open(browser.download_dir / name).convert("RGB"))
        before, after = [NO_PROXY.open(img.get_attribute("src")) for img in
                         wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#result img"))[:2]]
        assert downloaded.shape == (48, 64, 3) and downloaded.std() > 1.0  # the result, not blank
        assert np.array_equal(downloaded, np.asarray(Image.open(after).convert("RGB")))  # the slider's "after"
        assert np.asarray(Image.open(before).convert("RGB")).shape == (48, 64, 3)  # and its "before"

    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(u.startswith(page.url) for u in loaded), [u for u in loaded if not u.startswith(page.url)]
    screenshot(browser, "demo.png")


def test_stop_cancels_the_running_job_with_one_progress_display(page, browser, tmp_path):
    browser.get(page.url)
    start_long_gatys(browser, tmp_path)
    assert progress_displays(browser) == 1, progress_displays(browser)
    browser.find_element(By.ID, "stop").click()
    wait(browser, lambda: page.said("zoo demo: job cancelled (stopped)"))
    assert status(browser) == "stopped"


def test_closing_the_tab_cancels_its_job(page, browser, tmp_path):
    first = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(page.url)
    start_long_gatys(browser, tmp_path)
    browser.close()
    browser.switch_to.window(first)
    wait(browser, lambda: page.said("zoo demo: job cancelled (the client left)"))


def test_examples_fill_the_photo_and_the_style(page, browser):
    browser.get(page.url)
    choose_model(browser, "gatys")  # shows the style images
    examples = wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "button.gallery-item"))
    assert [e.text for e in examples][:2] == ["photo-lake", "photo-street"]
    examples[0].click()
    wait(browser, lambda: status(browser) == "photo-lake.jpg: 384x288 (reduced to --max-size 64)")
    style = Path(zoo.demo.examples()[0][1][0]).name  # the example's style image
    wait(browser, lambda: [e.get_attribute("aria-label") for e in
                           browser.find_elements(By.CSS_SELECTOR, "#style td.filename")] == [style])


def test_webcam_snapshot_and_live_webcam(page, browser):
    """The fake camera's snapshot becomes the photo; the live webcam shows stylised frames."""
    browser.get(page.url)
    choose_model(browser, "johnson")
    wait(browser, lambda: browser.find_elements(By.ID, "webcam_panel"))[0].click()
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#webcam [title='grant webcam access'] button"))[0].click()
    wait(browser, lambda: camera_streams(browser, "webcam"))  # a capture before the first frame takes nothing
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#webcam button[aria-label='capture photo']"))[0].click()
    wait(browser, lambda: status(browser).startswith("image.png: ") and "(reduced to --max-size 64)" in status(browser))
    browser.find_element(By.ID, "stylise").click()
    wait(browser, lambda: status(browser).startswith("johnson: 64x") or errors(browser))
    assert status(browser).startswith("johnson: 64x"), errors(browser)

    browser.find_element(By.ID, "live_panel").click()
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#live_in [title='grant webcam access'] button"))[0].click()
    wait(browser, lambda: camera_streams(browser, "live_in"))
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#live_in button[aria-label='capture photo']"))[0].click()
    src = wait(browser, lambda: [i.get_attribute("src") for i in browser.find_elements(By.CSS_SELECTOR, "#live_out img")])[0]
    frame = np.asarray(Image.open(NO_PROXY.open(src)).convert("RGB"))
    assert max(frame.shape[:2]) == 64 and frame.std() > 1.0  # stylised at --max-size, not blank
    screenshot(browser, "demo-webcam.png")
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#live_in button[aria-label='capture photo']"))[0].click()


def test_a_video_with_temporal_smoothing(page, browser, tmp_path):
    pytest.importorskip("av")
    browser.get(page.url)
    clip = write_clip(tmp_path / "clip.mp4", frames=4)
    upload(browser, "content", clip)
    wait(browser, lambda: status(browser) == "clip.mp4: video, 48x36, 4 frames")
    assert shown(browser, "input_video") and not shown(browser, "input") and shown(browser, "temporal")
    browser.find_element(By.CSS_SELECTOR, "#temporal input[type=checkbox]").click()
    choose_model(browser, "johnson")
    browser.find_element(By.ID, "stylise").click()
    wait(browser, lambda: status(browser).startswith("johnson: video in ") or errors(browser))
    assert status(browser).startswith("johnson: video in "), errors(browser)
    wait(browser, lambda: shown(browser, "result_video") and not shown(browser, "result"))
    assert browser.find_elements(By.CSS_SELECTOR, "#download a[download='clip-johnson.mp4']")
    screenshot(browser, "demo-video.png")
