"""Shared by the browser tests: a headless Chromium driven by Selenium, and
the PASS/FAIL/SKIP lines tests/run-e2e counts (see tests/lib.sh).

Run by Debian's /usr/bin/python3 (python3-selenium), never a python3 that
happens to be first on PATH."""
import os
import shutil
import sys

failed = False


def report(ok, name, why=""):
    global failed
    if ok:
        print("PASS: " + name)
    else:
        failed = True
        print("FAIL: " + name + (": " + why if why else ""))
    sys.stdout.flush()


def skip(name, why):
    print("SKIP: " + name + ": " + why)
    sys.exit(0)


def chrome():
    """A headless Chromium (--no-sandbox only as root, where its own sandbox
    cannot start), or a SKIP line and exit when there is none."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        skip("browser", "python3-selenium is not installed")
    binary = shutil.which("chromium") or "/usr/bin/chromium"
    drv = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not os.path.exists(binary) or not os.path.exists(drv):
        skip("browser", "chromium and chromium-driver are not installed")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for a in ("--headless=new", "--disable-gpu", "--window-size=1400,1000",
              "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
              "--force-prefers-reduced-motion"):
        opts.add_argument(a)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(drv), options=opts)


def console_errors(driver):
    """Errors the page's scripts logged (uncaught exceptions included)."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def done():
    sys.exit(1 if failed else 0)
