"""The search page in a real headless Chromium (issue #15): typing searches without
Enter, facets, the document view, the keyboard, a hostile title kept inert, and no
JavaScript error in the console.

Skipped when chromium or chromedriver is missing, unless SEARCHKIT_REQUIRE_BROWSER=1
(as in CI), where a missing browser fails the tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import FIXTURE_VAULT, write
from .serving import Running, serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HOSTILE = "<img src=x onerror=window.__pwned=1>"
WAIT_S = 15

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    if os.environ.get("SEARCHKIT_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"SEARCHKIT_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing")
    pytest.skip(
        "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as shown  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def start_browser(dark: bool = False) -> Any:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    if dark:
        driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
        )
    return driver


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("site")
    vault = folder / "vault"
    shutil.copytree(FIXTURE_VAULT, vault)
    write(
        vault / "hostile.md",
        f"---\ntitle: '{HOSTILE}'\ntags: ['<b>x</b>']\n---\n\n恶意标题 hostileword <script>window.__pwned=2</script>\n",
    )
    write(vault / f"{HOSTILE}.md", "文件名恶意 hostilename\n")
    running: Running
    running, url = serve(vault, folder / "index", "--no-watch")
    try:
        yield url
    finally:
        running.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    driver = start_browser()
    try:
        yield driver
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        driver.quit()


def wait(driver: Any) -> Any:
    return WebDriverWait(driver, WAIT_S)


def type_slowly(driver: Any, text: str) -> None:
    box = driver.find_element(By.ID, "q")
    for character in text:
        box.send_keys(character)


def test_typing_searches_without_enter_and_marks_the_matches(site: str, browser: Any) -> None:
    browser.get(site)
    type_slowly(browser, "好莱坞 罢工")
    wait(browser).until(shown.presence_of_element_located((By.CSS_SELECTOR, ".hit .snippet mark")))
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".hit")) == 3)
    status = browser.find_element(By.ID, "status").text
    assert "3 documents" in status and "ms" in status and "every word" in status
    first = browser.find_element(By.CSS_SELECTOR, ".hit")
    assert "詹姆斯" in first.find_element(By.CSS_SELECTOR, ".title").text
    assert first.find_element(By.CSS_SELECTOR, ".path").text.startswith("01-博客/")
    assert first.find_element(By.CSS_SELECTOR, ".date").text == "2024-09-25"
    assert "#AI" in first.find_element(By.CSS_SELECTOR, ".tags").text
    assert {mark.text for mark in browser.find_elements(By.CSS_SELECTOR, ".hit mark")} <= {"好莱坞", "罢工"}
    assert "q=%E5%A5%BD" in browser.current_url  # the query is in the address


def test_a_facet_click_adds_its_filter_and_a_second_removes_it(site: str, browser: Any) -> None:
    browser.get(f"{site}/?q=AI")
    wait(browser).until(shown.presence_of_element_located((By.CSS_SELECTOR, ".facet")))
    before = browser.find_element(By.ID, "status").text
    facet = next(f for f in browser.find_elements(By.CSS_SELECTOR, ".facet") if "数字生命卡兹克" in f.text)
    count = int(facet.find_element(By.CSS_SELECTOR, ".count").text)
    facet.click()
    wait(browser).until(lambda d: "tag:数字生命卡兹克" in d.find_element(By.ID, "q").get_attribute("value"))
    wait(browser).until(lambda d: d.find_element(By.ID, "status").text.startswith(f"{count} document"))
    active = browser.find_element(By.CSS_SELECTOR, ".facet.active")
    active.click()
    wait(browser).until(lambda d: d.find_element(By.ID, "q").get_attribute("value") == "AI")
    wait(browser).until(lambda d: d.find_element(By.ID, "status").text.split(" · ")[0] == before.split(" · ")[0])


def test_sort_and_paging(site: str, browser: Any) -> None:
    browser.get(f"{site}/?q=AI&sort=-date")
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".hit .date"))
    dates = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".hit .date")]
    assert dates == sorted(dates, reverse=True)
    assert browser.find_element(By.ID, "sort").get_attribute("value") == "-date"


def test_the_keyboard_opens_a_document_with_its_matches_and_related_notes(site: str, browser: Any) -> None:
    browser.get(site)
    browser.find_element(By.TAG_NAME, "body").click()
    browser.find_element(By.TAG_NAME, "body").send_keys("/")
    assert browser.switch_to.active_element.get_attribute("id") == "q"
    type_slowly(browser, "罢工")
    wait(browser).until(shown.presence_of_element_located((By.CSS_SELECTOR, ".hit mark")))
    box = browser.find_element(By.ID, "q")
    box.send_keys(Keys.ARROW_DOWN)
    assert browser.find_element(By.CSS_SELECTOR, ".hit.selected").get_attribute("data-index") == "0"
    title = browser.find_element(By.CSS_SELECTOR, ".hit.selected .title").text
    box.send_keys(Keys.ENTER)
    wait(browser).until(lambda d: d.find_element(By.ID, "doc-title").text == title)
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#doc-text mark"))
    marks = browser.find_elements(By.CSS_SELECTOR, "#doc-text mark")
    assert {mark.text for mark in marks} == {"罢工"}
    in_view = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight;", marks[0]
    )
    assert in_view
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#related li a"))
    assert "doc=" in browser.current_url
    assert browser.find_element(By.CSS_SELECTOR, "#doc-open code").text.endswith(".md")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    wait(browser).until(lambda d: d.find_element(By.ID, "results-view").is_displayed())


def test_a_hostile_title_and_file_name_show_as_text_and_run_nothing(site: str, browser: Any) -> None:
    browser.get(site)
    type_slowly(browser, "hostileword")
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".hit .title"))
    title = browser.find_element(By.CSS_SELECTOR, ".hit .title")
    assert title.text == HOSTILE
    assert not browser.find_elements(By.CSS_SELECTOR, "#hits img, #hits script, #hits b")
    title.click()
    wait(browser).until(lambda d: d.find_element(By.ID, "doc-title").text == HOSTILE)
    assert "<script>" in browser.find_element(By.ID, "doc-text").text
    assert not browser.find_elements(By.CSS_SELECTOR, "#doc img, #doc script, #doc b")
    browser.get(f"{site}/?q=hostilename")
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".hit .path"))
    assert browser.find_element(By.CSS_SELECTOR, ".hit .path").text == f"{HOSTILE}.md"
    assert browser.execute_script("return typeof window.__pwned") == "undefined"


def test_dark_mode_follows_the_system(site: str) -> None:
    driver = start_browser(dark=True)
    try:
        driver.get(f"{site}/?q=AI")
        wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".hit"))
        background = driver.execute_script("return getComputedStyle(document.documentElement).backgroundColor")
        assert background == "rgb(17, 20, 23)"
    finally:
        driver.quit()


def test_no_search_runs_while_an_input_method_is_composing(site: str, browser: Any) -> None:
    browser.get(site)
    browser.execute_script(
        """const box = document.getElementById("q");
        box.dispatchEvent(new CompositionEvent("compositionstart"));
        box.value = "hao";
        box.dispatchEvent(new InputEvent("input", { isComposing: true }));"""
    )
    browser.execute_script("return new Promise((done) => setTimeout(done, 600))")
    assert not browser.find_elements(By.CSS_SELECTOR, ".hit") and browser.find_element(By.ID, "status").text == ""
    browser.execute_script(
        """const box = document.getElementById("q");
        box.value = "好莱坞";
        box.dispatchEvent(new CompositionEvent("compositionend", { data: "好莱坞" }));"""
    )
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".hit mark"))


def test_a_word_still_being_typed_is_marked_in_the_document_too(site: str, browser: Any) -> None:
    browser.get(site)
    type_slowly(browser, "Stabil")
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".hit .snippet mark"))
    hit_marks = browser.find_elements(By.CSS_SELECTOR, ".hit mark")
    assert any(mark.text.lower().startswith("stability") for mark in hit_marks)
    browser.find_element(By.CSS_SELECTOR, ".hit .title").click()
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#doc-text mark"))
    marks = browser.find_elements(By.CSS_SELECTOR, "#doc-text mark")
    assert any(mark.text.lower().startswith("stability") for mark in marks)
