"""Writes docs/widget.png: the demo player's widget, as headless Chromium shows it.

    scripts/serve                                   # in one terminal
    .venv/bin/python docs/widget_png.py [URL]       # URL of the server, default http://127.0.0.1:5000

It reads the demo player's token from the server's /demo page (the snippet
`flask demo` prints) and drives Debian's Chromium through Playwright, as the
browser tests do.
"""
from __future__ import annotations

import re
import sys
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent / "widget.png"
CHROMIUM = "/usr/bin/chromium"


def main(base: str) -> None:
    html = urllib.request.urlopen(base + "/demo", timeout=10).read().decode()
    token = re.search(r'data-user-token="([^"]+)"', html).group(1)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_context(viewport={"width": 900, "height": 900}, reduced_motion="reduce").new_page()
        page.goto(f"{base}/widget/summer_games?user_token={token}")
        page.wait_for_selector("html[data-qk-ready]", state="attached")
        page.wait_for_load_state("networkidle")  # the logo loaded, or gave way to the name
        page.screenshot(path=str(OUT), full_page=True)
        browser.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main((sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000").rstrip("/"))
