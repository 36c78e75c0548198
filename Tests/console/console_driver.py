"""Helpers of the console's browser check (scripts/checks/80-console-browser) and weight measure
(scripts/console-weight): Debian's chromium, headless, through Debian's chromedriver and Selenium; raw HTTP
requests that do not follow redirects; bookings for a given local day.

Not a check itself. Needs `selenium` (scripts/requirements-test.txt) and /usr/bin/chromium, /usr/bin/chromedriver.
"""
import datetime
import http.client
import os
import shutil
import urllib.parse
import zoneinfo

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


def missing_tools():
    """Why the browser cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) or shutil.which(path)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package selenium is not installed (scripts/requirements-test.txt)"
    return None


def browser(width=1280, height=900):
    """A headless chromium (no sandbox: CI runs as root)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", "--lang=en-GB", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def raw(method, url, body=None, headers=None):
    """One request without following redirects: (status, headers dict (lower-case names), body bytes)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    path = parts.path + (("?" + parts.query) if parts.query else "")
    data = body.encode() if isinstance(body, str) else body
    connection.request(method, path, body=data, headers=headers or {})
    response = connection.getresponse()
    out = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    connection.close()
    return out


def local_day(zone, offset_days=0):
    """The date `offset_days` from today in `zone`, as YYYY-MM-DD."""
    now = datetime.datetime.now(zoneinfo.ZoneInfo(zone))
    return (now.date() + datetime.timedelta(days=offset_days)).isoformat()


def stay(zone, offset_days, nights=3, check_in="15:00:00", check_out="11:00:00"):
    """(check_in, check_out) local date-times of a stay starting `offset_days` from today in `zone`."""
    return f"{local_day(zone, offset_days)}T{check_in}", f"{local_day(zone, offset_days + nights)}T{check_out}"
