"""The dashboard of a running `wm serve` in headless Chromium.
usage: dashboard.py BASE_URL RUN_KEY SCREENSHOT_DIR

Runs are started through the API (as another tool would) while the page is
open; everything the page shows of them must arrive without a reload."""
import json
import sys
import time
import urllib.request

from browser import chrome, console_errors, done, report
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, key, shots = sys.argv[1:4]


def call(method, path, body=None):
    req = urllib.request.Request(base + "api/v1/" + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + key,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def wait(d, what, cond, timeout=20):
    """True once cond(d) is truthy; a FAIL line naming `what` otherwise."""
    try:
        WebDriverWait(d, timeout, poll_frequency=0.1).until(lambda x: cond(x))
        return True
    except Exception as e:  # a timeout, or the page went away
        report(False, what, "not within %ds (%s)" % (timeout, type(e).__name__))
        return False


# The pages redraw as events arrive: read and click through the DOM as it
# is at that moment, never through an element found earlier.
def attr(d, css, name):
    return d.execute_script("const e = document.querySelector(arguments[0]);"
                            "return e ? e.getAttribute(arguments[1]) : null;", css, name)


def text(d, css):
    return d.execute_script("const e = document.querySelector(arguments[0]);"
                            "return e ? e.textContent : '';", css)


def click(d, css):
    return d.execute_script("const e = document.querySelector(arguments[0]);"
                            "if (e) e.dispatchEvent(new MouseEvent('click', {bubbles: true}));"
                            "return !!e;", css)


def count(d, css):
    return d.execute_script("return document.querySelectorAll(arguments[0]).length;", css)


def node_state(d, task):
    return attr(d, 'svg.dag g.node[data-task="%s"]' % task, "data-state")


def still_same_page(d):
    return d.execute_script("return window.__wmTestMark === 42")


d = chrome()
try:
    # ---- the runs list, live ----
    d.get(base)
    wait(d, "the runs list loads", lambda x: count(x, "#runs tbody tr[data-run]"))
    d.execute_script("window.__wmTestMark = 42")
    first_rows = count(d, "#runs tbody tr[data-run]")
    live = call("POST", "runs", {"workflow": "live.md"})["run_id"]
    row = '#runs tbody tr[data-run="%s"]' % live
    if wait(d, "a run started through the API appears", lambda x: count(x, row)):
        report(True, "a run started through the API appears in the list")
    report(still_same_page(d), "without a reload of the page")
    report(count(d, "#runs tbody tr[data-run]") == first_rows + 1, "one row more")
    if wait(d, "the list shows the run's policy",
            lambda x: text(x, row + " td.policy") == "standard"):
        report(True, "the list shows the run's policy")
    state = attr(d, row, "data-state")
    report(state in ("running", "pending"), "the new run is shown running", state)
    d.save_screenshot(shots + "/dashboard-runs.png")

    # ---- its page: a task turns done live ----
    click(d, row + " a")
    wait(d, "the run page draws the graph", lambda x: node_state(x, "first"))
    d.execute_script("window.__wmTestMark = 42")
    seen = node_state(d, "first")
    report(seen in ("running", "pending"), "first is shown running before it ends", seen)
    if wait(d, "first turns succeeded on the page", lambda x: node_state(x, "first") == "succeeded"):
        report(True, "first turns succeeded live")
        report(node_state(d, "second") in ("pending", "running"),
               "while second has not finished", node_state(d, "second"))
    if wait(d, "second turns succeeded", lambda x: node_state(x, "second") == "succeeded"):
        report(True, "the whole run is shown done")
    report(still_same_page(d), "the run page was never reloaded")
    bars = d.execute_script("return Array.from(document.querySelectorAll('svg.timeline rect.bar'))"
                            ".map((b) => b.getAttribute('data-task')).sort();")
    report(bars == ["first", "second"], "the timeline has one bar per attempt", repr(bars))
    click(d, 'svg.timeline g.row[data-task="second"]')
    if wait(d, "the timeline opens a task", lambda x: "second done" in text(x, 'pre[data-log="second"]')):
        report(True, "a timeline row opens the task and its log")
    report(attr(d, "[data-audit]", "data-audit") == "intact", "the audit badge says intact")
    report(count(d, "#cancel") == 0, "no cancel button without a key")
    d.save_screenshot(shots + "/dashboard-run.png")

    # ---- cancel with a run key ----
    hold = call("POST", "runs", {"workflow": "hold.md"})["run_id"]
    d.get(base + "#/run/" + hold)
    d.find_element(By.ID, "key").send_keys(key)
    d.find_element(By.ID, "key-save").click()
    report(d.execute_script("return sessionStorage.getItem('wm-key')") == key,
           "the key is kept in sessionStorage")
    report(d.find_element(By.ID, "key").get_attribute("value") == "", "and the field is cleared")
    if wait(d, "the cancel button is offered for the live run",
            lambda x: count(x, "#cancel:not([disabled])") and node_state(x, "hold") == "running"):
        click(d, "#follow")
        if wait(d, "the live log follows the running task",
                lambda x: "holding" in text(x, "#follow-log")):
            report(True, "the live log follows the running task")
        click(d, "#cancel")
        if wait(d, "the page says the cancel was asked for",
                lambda x: "cancel requested" in text(x, "#live")):
            report(True, "cancel from the page")
        ended = lambda x: call("GET", "runs/" + hold).get("live") is False
        if wait(d, "the run stops", ended, 30):
            st = call("GET", "runs/" + hold)
            report(st["state"] in ("cancelled", "interrupted"), "the run was cancelled", st["state"])
        if wait(d, "the page shows the run stopped",
                lambda x: node_state(x, "hold") in ("cancelled", "failed")
                and count(x, "#cancel[disabled]")):
            report(True, "the page shows it stopped, live")
        req = urllib.request.Request(base + "api/v1/runs/%s/audit" % hold,
                                     headers={"Authorization": "Bearer " + key})
        with urllib.request.urlopen(req, timeout=10) as r:
            trail = r.read().decode()
        report("api:browser" in trail, "the audit log names the key that cancelled")

    # ---- history ----
    d.get(base + "#/history")
    if wait(d, "the history page loads",
            lambda x: count(x, "#history table")):
        page = text(d, "#history")
        report("live" in page and "shipit" in page, "history names the workflows")
        report(count(d, "#history svg.chart") >= 2, "with small charts")
        report("shipit/build" in page, "the flaky task is named")
    d.save_screenshot(shots + "/dashboard-history.png")
    errs = console_errors(d)
    report(not errs, "no script error on any page", "; ".join(errs))
finally:
    d.quit()
done()
