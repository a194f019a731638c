"""The embed script on a partner page of another origin: the widget appears,
signs the user in without the token in any URL, and sizes itself."""
from __future__ import annotations

from tests.browser.conftest import embed_html


def test_embed_script_inserts_a_sized_iframe_that_signs_in_without_a_token_in_urls(
        page, live, partner, publish, widget_token):
    publish("default-example.json")
    token = widget_token("alice", name="Alice")
    urls: list[str] = []
    page.on("request", lambda req: urls.append(req.url))
    page.goto(partner.page(embed_html(live.url, "default", token)))
    frame_el = page.wait_for_selector("iframe")
    frame = frame_el.content_frame()
    frame.wait_for_selector("#qk-balance")
    assert frame.inner_text(".qk-name") == "Alice"
    # The iframe sits right after the script, before the partner's next element.
    assert page.evaluate("document.querySelector('iframe').nextElementSibling.id") == "after"
    # Sized to its content by postMessage (the default is 150 px without it).
    page.wait_for_function("document.querySelector('iframe').getBoundingClientRect().height > 400")
    assert not [u for u in urls if token in u]
    page.screenshot(path=str(page.shots / "embedded.png"), full_page=True)
    assert page.js_errors == []
