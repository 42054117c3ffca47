"""The page in a real browser: ``zoo demo`` as a subprocess (smoke weights, offline), headless Debian chromium
driven by selenium through upload -> stylise -> download for one model of each family; a bad upload shows
its one-line message. Skipped where chromium, chromedriver or selenium are missing (``pytest -m browser``
runs only this). ``ZOO_DEMO_SCREENSHOT=docs/demo.png`` also writes the page's screenshot there."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

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

from test_demo import adain_weights, free_port  # noqa: E402

FAMILIES = ["johnson", "cyclegan", "adain_gan", "gatys"]  # Gatys last: the screenshot shows its options
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """``zoo demo`` with smoke weights on a free port: (url, process). Stopped with Ctrl-C (SIGINT) at the end,
    which must exit cleanly."""
    home = tmp_path_factory.mktemp("home")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TORCH_HOME=str(home / "torch"), HF_HOME=str(home / "hf"),
               HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", PYTHONWARNINGS="ignore",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "zoo", "demo", "--port", str(port), "--max-size", "64", "--weights", "random",
         "--weights", f"adain_gan={adain_weights(home / 'adain')}", "--backbone-weights", "none"],
        cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            NO_PROXY.open(url, timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"zoo demo did not start: {proc.communicate()[1][-2000:]}")
            time.sleep(0.5)
    yield url, proc
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    assert out.startswith(f"zoo demo: serving {url[:-1]} (Ctrl-C stops it)") and "Traceback" not in err


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless chromium that saves downloads to its ``download_dir`` attribute."""
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    driver.download_dir = downloads
    yield driver
    driver.quit()


def wait(driver, condition, timeout=60):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda _: condition())


def status(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "#status textarea").get_attribute("value")


def upload(driver, elem_id: str, path: Path) -> None:
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, f"#{elem_id} input[type=file]"))[0].send_keys(str(path))


def choose_model(driver, name: str) -> None:
    driver.find_element(By.CSS_SELECTOR, "#model input").click()
    option = f"//li[@role='option' and starts-with(@aria-label, '{name} (')]"
    wait(driver, lambda: driver.find_elements(By.XPATH, option))[0].click()
    assert driver.find_element(By.CSS_SELECTOR, "#model input").get_attribute("value").startswith(f"{name} (")


def test_upload_stylise_download_each_family(page, browser, tmp_path):
    url, _ = page
    browser.get(url)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture\n")
    upload(browser, "content", notes)  # a bad upload: its line on the page, and the page goes on
    wait(browser, lambda: status(browser) == "error: notes.txt: not an image, or a format Pillow cannot read")
    browser.find_element(By.CSS_SELECTOR, "#content button[aria-label=Clear]").click()
    upload(browser, "content", make_image(tmp_path / "photo.png", (80, 60), seed=1))
    wait(browser, lambda: status(browser) == "photo.png: 64x48 preview")

    for family in FAMILIES:
        choose_model(browser, family)
        if family in ("adain_gan", "gatys"):  # the style control appears for these models
            wait(browser, lambda: browser.find_element(By.ID, "style").is_displayed())
            if family == "adain_gan":  # one style image, kept for gatys
                upload(browser, "style", make_image(tmp_path / "style.png", (40, 40), seed=2))
        if family == "gatys":
            assert len(browser.find_elements(By.CSS_SELECTOR, "#style td.filename")) == 1
            steps = wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#steps input[type=number]"))[0]
            steps.clear()
            steps.send_keys("3", Keys.TAB)
        browser.find_element(By.ID, "stylise").click()
        wait(browser, lambda: status(browser).startswith((f"{family}:", "error")))
        assert status(browser).startswith(f"{family}: 64x48 in "), status(browser)

        name = f"photo-{family}.png"
        wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, f"#download a[download='{name}']"))[0].click()
        wait(browser, lambda: (browser.download_dir / name).is_file(), timeout=30)
        downloaded = np.asarray(Image.open(browser.download_dir / name).convert("RGB"))
        shown = browser.find_element(By.CSS_SELECTOR, "#result img").get_attribute("src")
        assert downloaded.shape == (48, 64, 3) and downloaded.std() > 1.0  # the result, not blank
        assert np.array_equal(downloaded, np.asarray(Image.open(NO_PROXY.open(shown)).convert("RGB")))

    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(u.startswith(url) for u in loaded), [u for u in loaded if not u.startswith(url)]  # offline

    shot = tmp_path / "demo.png"
    assert browser.save_screenshot(str(shot)) and Image.open(shot).width == 1280
    if os.environ.get("ZOO_DEMO_SCREENSHOT"):  # docs/demo.png: a 64-colour palette PNG, small enough to commit
        Image.open(shot).convert("RGB").quantize(64).save(os.environ["ZOO_DEMO_SCREENSHOT"], optimize=True)
