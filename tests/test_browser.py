"""The web console in a real browser (issue 30): Debian's chromium driven by selenium against waitress on loopback —
as a clerk (open the link, upload a return with errors, read the findings, download the annotated workbook, upload
the fix, see 已解决) and as the coordinator (log in, see the board, approve, download the summary). Screenshots are
written to the test's folder (and looked at when the pages change)."""
from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from conftest import CONSOLE_PASSWORD, console_round, corrected_return, returns_of, run
from perftables.api.console import console
from perftables.io import keys

pytestmark = [pytest.mark.slow]
PASSWORD = CONSOLE_PASSWORD
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def server(round_dir):
    """waitress serving the round on a free loopback port; (base URL, links, round)."""
    from waitress import create_server
    rnd, tokens = console_round(round_dir)
    with rnd.using_key():
        srv = create_server(console(rnd), host="127.0.0.1", port=0, threads=4)
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{srv.effective_port}", tokens, rnd
        finally:
            srv.close()


@pytest.fixture
def browser(tmp_path):
    if not (shutil.which("chromium") and os.path.exists(CHROMEDRIVER)):
        pytest.fail("CI 上必须安装 chromium 和 chromium-driver（.ci/run 会安装）")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                "--lang=zh-CN"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(tmp_path / "下载"),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(30)   # a loaded 2-core machine: a review may take seconds
    yield driver
    driver.quit()


def shot(driver, path: Path) -> None:
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 5000


def wait_for_file(folder: Path, suffix: str, seconds: float = 60) -> Path:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        done = [p for p in folder.glob(f"*{suffix}")] if folder.is_dir() else []
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"nothing downloaded into {folder}")


def test_a_clerk_in_the_browser(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    base, tokens, rnd = server
    browser.get(f"{base}/t/{tokens['731002']}")
    assert browser.current_url == f"{base}/u"                         # the token left the address bar
    assert "保定市科学技术协会（机关）" in browser.find_element(By.TAG_NAME, "h1").text
    shot(browser, tmp_path / "1-单位页面.png")
    first = tmp_path / "保定的表.xlsx"
    first.write_bytes(returns_of(rnd.folder, ["731002"])["731002"])
    browser.find_element(By.ID, "file").send_keys(str(first))
    browser.find_element(By.ID, "send").click()
    verdict = browser.find_element(By.ID, "verdict").text
    assert "个错误必须修改" in verdict
    rows = browser.find_elements(By.CSS_SELECTOR, "#findings tbody tr")
    assert rows and all(r.find_elements(By.TAG_NAME, "td")[5].text for r in rows if "错误" in r.text)   # 怎么改
    shot(browser, tmp_path / "2-审核结果.png")
    browser.find_element(By.ID, "annotated").click()
    annotated = wait_for_file(tmp_path / "下载", ".xlsx")
    assert "审核意见" in annotated.name
    with keys.using(rnd.key_path):
        fixed = corrected_return(first)
    (tmp_path / "改好了.xlsx").write_bytes(fixed)
    browser.get(f"{base}/u")
    browser.find_element(By.ID, "file").send_keys(str(tmp_path / "改好了.xlsx"))
    browser.find_element(By.ID, "send").click()
    assert "已解决" in browser.find_element(By.ID, "tracked").text
    assert any("已解决" in r.text for r in browser.find_elements(By.CSS_SELECTOR, "#findings tbody tr"))
    shot(browser, tmp_path / "3-改后再传.png")
    # the coordinator sees what the fix changed, cell by cell
    browser.get(f"{base}/login")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()
    browser.find_element(By.ID, "board")
    browser.get(f"{base}/units/731002")
    browser.find_element(By.CLASS_NAME, "diff-link").click()
    cells = browser.find_element(By.ID, "diff").text
    assert "群众满意度" in cells and "项目5" in cells
    shot(browser, tmp_path / "6-两版比较.png")


def test_the_coordinator_in_the_browser(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    base, tokens, rnd = server
    ret = tmp_path / "丰宁.xlsx"
    ret.write_bytes(returns_of(rnd.folder, ["307001"])["307001"])
    browser.get(f"{base}/t/{tokens['307001']}")
    browser.find_element(By.ID, "file").send_keys(str(ret))
    browser.find_element(By.ID, "send").click()
    browser.find_element(By.ID, "verdict")          # the review is shown: the upload is done
    browser.get(f"{base}/")
    assert browser.current_url.endswith("/login")
    browser.find_element(By.NAME, "name").send_keys("张三")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()
    table = browser.find_element(By.ID, "board").text
    assert "丰宁满族自治县科学技术协会本级" in table and "未报送" in table
    shot(browser, tmp_path / "4-进度.png")
    browser.find_element(By.CSS_SELECTOR, "button.approve").click()
    assert "已确认通过" in browser.find_element(By.ID, "message").text
    assert "  通过" in run("status", "--round", rnd.folder).output
    old = browser.find_element(By.ID, "message")
    browser.find_element(By.ID, "collect").click()
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 120).until(ec.staleness_of(old))     # the page after the click, not the one before
    assert "已收集" in browser.find_element(By.ID, "message").text
    browser.find_element(By.LINK_TEXT, "下载汇总").click()
    assert wait_for_file(tmp_path / "下载", "汇总.xlsx").stat().st_size > 10_000
    shot(browser, tmp_path / "5-收集后.png")
