"""The step-through page in a real browser: headless Chromium driven by Selenium.

One browser for the whole module. The page loads from a file:// URL with no console
message (the network is closed, so a request of any kind would show up as an error), and
stepping through it shows, step by step, the parent gradients that the engine's recorded
sweep produced; "previous" undoes a step. A screenshot goes to out/step_through.png.

Needs the Debian packages chromium and chromium-driver and the selenium package (the
``test`` extra); ``make test`` installs them, and without them this module is skipped.
"""

import shutil
import tempfile
from pathlib import Path

import pytest

from autograd import Value, draw_html, topological_order
from autograd.engine import recorded_sweep

ROOT = Path(__file__).resolve().parents[2]
HINT = (
    "the browser test needs Chromium, its driver and selenium: run 'make test' as root "
    "(it installs them), or 'sudo apt-get install chromium chromium-driver' and "
    "'pip install selenium'"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,900",
]
LONG_LABEL = "b" + "-is-a-long-name" * 20  # 301 characters: the picture may shorten it
HOSTILE = '</script><img src="x" onerror="console.error(1)">'


def graph():
    """y = tanh(a*a + a*b) + a, with a used four times and hostile and long labels."""
    a, b = Value(0.75, label="a"), Value(-2.0, label=LONG_LABEL)
    y = (a * a + a * b).tanh() + a
    y.label = HOSTILE
    return y


def find(name):
    path = shutil.which(name) or f"/usr/bin/{name}"
    return path if Path(path).is_file() else None


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip(HINT)
    chromium, chromedriver = find("chromium"), find("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.skip(HINT)
    with tempfile.TemporaryDirectory(prefix="chainrule-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in [*FLAGS, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # The driver's path given outright: Selenium Manager never runs, nothing is downloaded.
        driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    """The page of graph(), loaded; (driver, the root it shows)."""
    root = graph()
    path = draw_html(root).save(tmp_path_factory.mktemp("page") / "graph.html")
    browser.get(path.as_uri())
    return browser, root


def console(driver):
    """Console messages at warning level or above since the last call."""
    return [entry for entry in driver.get_log("browser") if entry["level"] != "INFO"]


def css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def click(driver, action):
    (button,) = css(driver, f"button[data-action={action}]")
    button.click()


def shown_rows(driver):
    """(parent node name, grad before, grad after) of each row of the step's table."""
    return [
        (
            row.get_attribute("data-parent"),
            row.find_element("css selector", ".cr-before").text,
            row.find_element("css selector", ".cr-after").text,
        )
        for row in css(driver, "tr[data-parent]")
    ]


def expected_rows(root):
    """The same, from the engine: one list per step of the recorded sweep."""
    index = {id(node): i for i, node in enumerate(topological_order(root))}
    return [
        [(f"v{index[id(p)]}", repr(b), repr(a)) for p, b, a in zip(parents, before, after)]
        for _, parents, before, after in recorded_sweep(root)
    ]


def firing(driver):
    return [g.get_attribute("data-value") for g in css(driver, "g.node.cr-firing")]


def test_the_page_loads_from_a_file_with_no_console_message(page):
    driver, _ = page
    assert console(driver) == []
    assert driver.title.startswith("backward pass of </script>")
    (status,) = css(driver, ".cr-status")
    assert status.text.startswith("backward step 0 of 5: the seed")
    assert css(driver, ".cr-page")[0].get_attribute("data-mode") == "backward"


def test_next_shows_each_steps_parent_gradients_as_the_engine_recorded_them(page):
    driver, root = page
    order = topological_order(root)
    index = {id(node): i for i, node in enumerate(order)}
    steps = recorded_sweep(root)
    click(driver, "backward")
    for k, expected in enumerate(expected_rows(root), start=1):
        click(driver, "next")
        assert css(driver, ".cr-page")[0].get_attribute("data-step") == str(k)
        assert shown_rows(driver) == expected, f"step {k}"
        node = steps[k - 1][0]
        assert firing(driver) == [str(index[id(node)])] * 2  # the value and its op
    assert order[0].label == "a" and [row[0] for row in shown_rows(driver)] == ["v0", "v2"]
    # after the last rule every grad in the picture is what backward() leaves
    fresh = graph()
    fresh.backward()
    for i, node in enumerate(topological_order(fresh)):
        (grad,) = [t.text for t in css(driver, f'g[data-value="{i}"].node text')
                   if t.text.startswith("grad")]
        assert grad.split()[-1] == (f"{node.grad:.4g}" if node.grad else "0"), grad
    assert console(driver) == []


def test_the_accumulation_into_a_reused_node_is_visible(page):
    driver, root = page
    click(driver, "reset")
    seen = []  # every (before, after) of a's grad, step by step
    for _ in range(5):
        click(driver, "next")
        seen += [(before, after) for name, before, after in shown_rows(driver) if name == "v0"]
    assert len(seen) == 3  # a's grad grows in three rules: + a, a*b and a*a
    assert seen[0][0] == "0.0" and seen[1][0] == seen[0][1] and seen[2][0] == seen[1][1]


def test_previous_undoes_a_step(page):
    driver, root = page
    expected = expected_rows(root)
    click(driver, "reset")
    for _ in range(3):
        click(driver, "next")
    click(driver, "previous")
    assert css(driver, ".cr-page")[0].get_attribute("data-step") == "2"
    assert shown_rows(driver) == expected[1]
    click(driver, "previous")
    click(driver, "previous")
    assert css(driver, ".cr-status")[0].text.startswith("backward step 0 of 5")
    assert css(driver, "button[data-action=previous]")[0].get_attribute("disabled")


def test_forward_reveals_the_values_in_topological_order(page):
    driver, root = page
    click(driver, "forward")
    assert css(driver, ".cr-page")[0].get_attribute("data-mode") == "forward"
    assert len(css(driver, "g.node.cr-pending")) == 2 * 5 + 1  # all but a: values and ops
    for _ in range(6):
        click(driver, "next")
    assert css(driver, "g.node.cr-pending") == []
    assert css(driver, ".cr-status")[0].text.startswith("forward 7 of 7")
    grads = [t.text for t in css(driver, "g.node text") if t.text.startswith("grad")]
    assert grads == ["grad 0"] * 7
    click(driver, "backward")


def test_hovering_a_node_shows_it_in_full_at_the_step_shown(page):
    from selenium.webdriver.common.action_chains import ActionChains

    driver, root = page
    b = topological_order(root)[2]
    assert b.label == LONG_LABEL
    fresh = graph()
    fresh.backward()
    click(driver, "backward")
    for _ in range(5):
        click(driver, "next")
    (node,) = css(driver, 'g.node[data-value="2"]')
    ActionChains(driver).move_to_element(node).perform()
    (tip,) = css(driver, ".cr-tip")
    assert tip.is_displayed()
    grad = topological_order(fresh)[2].grad
    lines = [f"v2  {LONG_LABEL}", "op    (leaf)", "data  -2.0", f"grad  {grad!r}"]
    assert tip.text.split("\n") == lines
    ActionChains(driver).move_by_offset(0, 400).perform()
    assert not tip.is_displayed()


def test_play_runs_to_the_end(page):
    from selenium.webdriver.support.wait import WebDriverWait

    driver, _ = page
    click(driver, "backward")
    (element,) = css(driver, ".cr-page")
    driver.execute_script("arguments[0].setAttribute('data-interval', '20')", element)
    click(driver, "play")
    assert css(driver, "button[data-action=play]")[0].text == "pause"
    WebDriverWait(driver, 5).until(lambda d: css(d, "button[data-action=play]")[0].text == "play")
    assert element.get_attribute("data-step") == "5"
    assert console(driver) == []


def test_a_screenshot_of_a_step_is_written_under_out(browser, tmp_path):
    # The picture in the README: a's grad accumulating, with plain labels.
    a, b = Value(0.75, label="a"), Value(-2.0, label="b")
    y = (a * a + a * b).tanh() + a
    y.label = "y"
    browser.get(draw_html(y).save(tmp_path / "graph.html").as_uri())
    for _ in range(4):
        click(browser, "next")
    assert [row[0] for row in shown_rows(browser)] == ["v0"]  # a*a's rule: a's grad grows
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    shot = out / "step_through.png"
    (element,) = css(browser, ".cr-page")
    assert element.screenshot(str(shot)) and shot.stat().st_size > 10_000
    assert console(browser) == []


def test_two_pages_inline_in_one_document_step_on_their_own(browser, tmp_path):
    # As in a notebook: the same graph shown twice, as _repr_html_ fragments.
    fragment = draw_html(graph())._repr_html_()
    document = tmp_path / "notebook.html"
    document.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"</head><body>{fragment}<p>between</p>{fragment}</body></html>",
        encoding="utf-8",
    )
    browser.get(document.as_uri())
    first, second = css(browser, ".cr-page")
    second.find_element("css selector", "button[data-action=next]").click()
    assert (first.get_attribute("data-step"), second.get_attribute("data-step")) == ("0", "1")
    assert len(css(browser, "g.node.cr-firing")) == 2 + 2  # the seed in one, step 1 in the other
    assert console(browser) == []
