"""Plain helpers for the browser tests (tests/web/): axe-core, the browser's network and
console logs, and the keyboard. The `browser` fixture itself is in tests/web/conftest.py."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from tests.helpers import ROOT

AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
#: The rules that fail a test: every WCAG 2.0 and 2.1 rule at level A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def assert_no_console_errors(driver) -> None:
    problems = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not problems, problems


def assert_only_our_hosts(driver) -> None:
    """Every request and socket the page opened, from the browser's own network log, went to
    the page's host or the chat socket's host: no fonts, scripts or beacons elsewhere."""
    from selenium.webdriver.common.by import By

    page = urlsplit(driver.current_url).netloc
    socket = driver.find_element(By.ID, "webchat").get_attribute("data-socket-url")
    ours = {page, urlsplit(socket).netloc}
    seen: set[str] = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            url = params["request"]["url"]
        elif message["method"] == "Network.webSocketCreated":
            url = params["url"]
        else:
            continue
        if urlsplit(url).scheme in ("data", "blob", "about"):
            continue
        seen.add(urlsplit(url).netloc)
    print(f"  hosts the page contacted: {sorted(seen)}")
    assert seen, "the network log is empty: is the performance log on?"
    assert seen <= ours, f"requests to other hosts: {sorted(seen - ours)}"


def check_axe(driver, state: str) -> None:
    """Run axe-core on the whole page; fail on any WCAG 2.1 A or AA violation and print the
    counts (best-practice findings are printed, not failed)."""
    driver.set_script_timeout(60)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: "tag", values: arguments[0]}})
          .then((r) => done({
            passes: r.passes.length,
            violations: r.violations.map((v) => ({
              id: v.id, impact: v.impact, tags: v.tags, help: v.help,
              nodes: v.nodes.map((n) => n.target.join(" ")),
            })),
          }))
          .catch((e) => done({error: String(e)}));
        """,
        [*WCAG_TAGS, "best-practice"],
    )
    assert "error" not in result, result
    wcag = [v for v in result["violations"] if set(v["tags"]) & set(WCAG_TAGS)]
    other = [v for v in result["violations"] if v not in wcag]
    print(
        f"  axe-core ({state}): {len(wcag)} WCAG 2.1 A/AA violations, "
        f"{len(other)} best-practice findings, {result['passes']} rules passed"
    )
    for v in other:
        print(f"    best practice: {v['id']} ({v['impact']}) on {v['nodes'][:3]}")
    assert not wcag, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} on {v['nodes'][:5]}" for v in wcag
    )


def press(driver, *keys: str) -> None:
    """Keys sent to whatever has focus, as a person at a keyboard would."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*keys).perform()


def focused(driver):
    return driver.switch_to.active_element


def wait_for_focus(driver, css_class: str, why: str) -> None:
    """Wait (5 s at most) until the focused element has the class `css_class`."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 5).until(lambda d: css_class in class_of(focused(d)), message=why)


def tab_to(driver, matches, backwards: bool = False, limit: int = 80):
    """Press Tab (or Shift+Tab) until `matches(element)` holds for the focused element."""
    from selenium.webdriver.common.keys import Keys

    path = []
    for _ in range(limit):
        if backwards:
            shift_tab(driver)
        else:
            press(driver, Keys.TAB)
        element = focused(driver)
        if matches(element):
            return element
        path.append(f"{element.tag_name}.{class_of(element)} {element.text[:30]!r}")
    raise AssertionError(f"{limit} presses of Tab never reached the element; focus went {path}")


def shift_tab(driver) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()


def class_of(element) -> str:
    return element.get_attribute("class") or ""
