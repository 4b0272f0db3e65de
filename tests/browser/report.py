"""The page `wm report` wrote, opened from file:// in headless Chromium:
usage: report.py PAGE.html SCREENSHOT.png DOC.json

DOC.json is the run document of the same run (`wm report --json`): the
graph and the timeline must show its tasks with their states."""
import json
import sys

from browser import chrome, console_errors, done, report
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

page, shot, docfile = sys.argv[1:4]
doc = json.load(open(docfile))
want = {t["id"]: t["state"] for t in doc["plan"]["tasks"]}

d = chrome()
try:
    d.get("file://" + page)
    nodes = d.find_elements(By.CSS_SELECTOR, "svg.dag g.node")
    got = {n.get_attribute("data-task"): n.get_attribute("data-state") for n in nodes}
    report(got == want, "the graph has every task with its state", "%r != %r" % (got, want))
    for task, state in want.items():
        n = d.find_element(By.CSS_SELECTOR, 'svg.dag g.node[data-task="%s"]' % task)
        label = n.find_element(By.CSS_SELECTOR, "text").text
        report(task[:10] in label and n.get_attribute("aria-label") == "%s: %s" % (task, state)
               or n.get_attribute("aria-label").startswith("%s: %s," % (task, state)),
               "node %s says its state in words (%s)" % (task, state), label)
    marks = {n.get_attribute("data-task"): n.find_element(By.CSS_SELECTOR, "tspan.mark").text
             for n in nodes}
    report(marks.get("broken") == "\u2717" and marks.get("ship") == "\u2713",
           "failed and succeeded nodes carry different symbols", repr(marks))
    edges = d.find_elements(By.CSS_SELECTOR, "svg.dag path.edge")
    report(len(edges) == len(doc["plan"]["edges"]), "one line per edge",
           "%d != %d" % (len(edges), len(doc["plan"]["edges"])))
    # Columns by level: ship (level 2) right of build (1) right of prep (0).
    x = {n.get_attribute("data-task"): n.rect["x"] for n in nodes}
    report(x["prep"] < x["build"] < x["ship"], "laid out by levels", repr(x))

    bars = d.find_elements(By.CSS_SELECTOR, "svg.timeline rect.bar")
    report(len(bars) == len(doc["attempts"]), "a timeline bar per attempt",
           "%d != %d" % (len(bars), len(doc["attempts"])))
    build = [b.get_attribute("data-outcome") for b in bars if b.get_attribute("data-task") == "build"]
    report(build == ["retry", "succeed"], "build's retry shows in the timeline", repr(build))
    broken = [b.get_attribute("class") for b in bars if b.get_attribute("data-task") == "broken"]
    report(broken and "bad" in broken[0], "the failed attempt is drawn as failed", repr(broken))
    crit = d.find_elements(By.CSS_SELECTOR, "svg.timeline g.row.crit")
    report({r.get_attribute("data-task") for r in crit} == set(doc["critical_path"]),
           "the critical path is highlighted in the timeline",
           repr([r.get_attribute("data-task") for r in crit]))
    report(len(d.find_elements(By.CSS_SELECTOR, "svg.timeline rect.wait")) > 0,
           "queue waits are drawn")

    # A task is a button: keyboard reaches it and Enter opens its details.
    n = d.find_element(By.CSS_SELECTOR, 'svg.dag g.node[data-task="prep"]')
    n.send_keys(Keys.ENTER)
    detail = d.find_element(By.ID, "task-detail")
    report("prep" in detail.find_element(By.TAG_NAME, "h4").text, "Enter on a node opens the task")
    log = d.find_element(By.CSS_SELECTOR, 'pre[data-log="prep"]').text
    report("</script><script>alert(1)</script>" in log, "the hostile log line is shown as text", log)
    alerts = d.execute_script("return document.querySelectorAll('main script').length")
    report(alerts == 0, "the log made no script element")
    d.find_element(By.CSS_SELECTOR, 'svg.timeline g.row[data-task="broken"]').click()
    report("exit 3" in d.find_element(By.ID, "task-detail").text or
           "3" in d.find_element(By.ID, "task-detail").text,
           "clicking a timeline row opens that task")
    badge = d.find_element(By.CSS_SELECTOR, "[data-audit]").get_attribute("data-audit")
    report(badge == "intact", "the audit badge says intact", badge)
    errs = console_errors(d)
    report(not errs, "no script error", "; ".join(errs))
    d.save_screenshot(shot)
    report(True, "screenshot saved to " + shot)

    # Dark mode: the system's preference changes the page's colours.
    bg = "return getComputedStyle(document.body).backgroundColor"
    light = d.execute_script(bg)
    d.execute_cdp_cmd("Emulation.setEmulatedMedia",
                      {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    dark = d.execute_script(bg)
    lum = lambda c: sum(int(v) for v in c[c.index("(") + 1:c.index(")")].split(",")[:3])
    report(lum(light) > 600 and lum(dark) < 150, "dark mode follows the system",
           "%s -> %s" % (light, dark))
    d.save_screenshot(shot.replace(".png", "-dark.png"))
finally:
    d.quit()
done()
