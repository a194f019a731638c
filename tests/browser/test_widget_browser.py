"""The participant widget in a real browser (SPEC §7, §11): embedded on a
partner page of another origin, in the development preview, and behind an
e-mailed play link. Each test saves a screenshot of its main state in
``page.shots``."""
from __future__ import annotations

import json
import re
from urllib.parse import quote

from tests.browser.conftest import EXAMPLES, embed_html

WHEEL = "#qk-game-NEON_WHEEL"
# The default example's prize tiers (and the wheel's "no prize" segment).
PRIZES = {"Grand prize": 5000, "Double up": 100, "Something": 25, "Try again": 0}
WHEEL_COST = 50  # default-example.json: NEON_WHEEL points_to_unlock
XSS = "<script>alert(1)</script>"


# -- helpers ---------------------------------------------------------------------------------

def summer(**changes) -> dict:
    """examples/campaign-example.json (summer_games) with top-level ``changes``."""
    doc = json.loads((EXAMPLES / "campaign-example.json").read_text())
    doc.update(changes)
    return doc


def default_doc() -> dict:
    return json.loads((EXAMPLES / "default-example.json").read_text())


def award(client, api_key, user: str, event: str = "signup", **body) -> dict:
    r = client.post("/v1/points/award", json={"userId": user, "eventType": event, **body},
                    headers={"X-API-Secret": api_key})
    assert r.status_code == 201, r.json
    return r.json["data"]


def server_balance(client, api_key, user: str) -> int:
    r = client.get(f"/v1/users/{user}", headers={"X-API-Secret": api_key})
    assert r.status_code == 200, r.json
    return r.json["data"]["balance"]


READY = "html[data-qk-ready]"  # widget.js: htmx has processed the page, its hx- controls work


def open_embedded(page, live, partner, pid: str, token: str):
    """The partner page (another origin) with the embed script; the widget's frame once ready.

    #qk-balance is parsed before the page's scripts run: waiting for it alone
    let a test click a control that htmx had not wired yet."""
    page.goto(partner.page(embed_html(live.url, pid, token)))
    frame = page.wait_for_selector("iframe").content_frame()
    frame.wait_for_selector(READY, state="attached")
    return frame


def open_preview(page, live, pid: str, token: str):
    """The development preview (a top-level page; the token may sit in its URL)."""
    r = page.goto(f"{live.url}/widget/{pid}?user_token={quote(token)}")
    assert r.status == 200
    page.wait_for_selector(READY, state="attached")
    return page


def shown_balance(frame) -> int:
    el = frame.locator("#qk-balance")
    value = el.get_attribute("data-balance")
    assert el.inner_text().strip() == value
    return int(value)


def shot(page, name: str, full_page: bool = True) -> None:
    page.screenshot(path=str(page.shots / f"{name}.png"), full_page=full_page)


# -- 1. visit action, embedded ---------------------------------------------------------------

def test_embedded_visit_action_opens_its_link_and_pays_without_reloading_the_widget(
        page, live, partner, client, auth, publish, widget_token):
    # The campaign lets the partner's origin frame the widget.
    publish(summer(widget={"allowed_origins": [partner.url]}))
    token = widget_token("vic", name="Vic")
    frame = open_embedded(page, live, partner, "summer_games", token)
    action = frame.locator("li.qk-action[data-action=join_discord]")
    assert action.get_attribute("data-status") == "available"
    assert shown_balance(frame) == 0

    navigations: list[str] = []
    page.on("framenavigated", lambda f: navigations.append(f.url))
    frame.evaluate("window.__qkMarker = 'same document'")
    page.evaluate("window.__partnerMarker = 'same document'")

    # The partner's Discord page is outside this closed network: the browser gets a stand-in.
    page.context.route("https://example.com/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>Discord</title>"))
    link = action.locator("a.qk-visit")
    with page.context.expect_page() as popup_info:
        link.click()
    popup = popup_info.value
    # A popup starts on about:blank: wait for its navigation, not for a load state.
    popup.wait_for_url("https://example.com/discord")  # a new tab, the frame stays
    popup.close()

    frame.wait_for_selector("#qk-balance[data-balance='20']", timeout=5000)
    assert shown_balance(frame) == 20
    assert action.get_attribute("data-status") == "completed"
    assert action.locator("a.qk-visit").count() == 0  # nothing left to claim
    assert "Join our Discord" in frame.inner_text("#qk-activity")
    assert "+20 points" in frame.inner_text("#qk-toasts")
    # The same documents: no reload of the frame nor of the partner's page.
    assert frame.evaluate("window.__qkMarker") == "same document"
    assert page.evaluate("window.__partnerMarker") == "same document"
    assert navigations == []
    shot(page, "embedded_visit")
    # The server agrees: the visit was recorded once, in summer_games.
    r = client.get("/api/v1/user/balance", headers=auth,
                   query_string={"account": "vic", "platform": "internal", "pid": "summer_games"})
    assert r.status_code == 200, r.json
    assert r.json["data"]["xp"] == 20
    assert page.js_errors == []


def test_a_visit_link_cannot_be_clicked_before_htmx_wired_it_so_no_visit_goes_unrecorded(
        page, live, partner, client, auth, publish, widget_token):
    """The race behind a flaky visit test: the page's controls are parsed before
    htmx (a separate script) processed them. Held here on purpose."""
    publish(summer(widget={"allowed_origins": [partner.url]}))
    held = []
    page.context.route("**/js/htmx-2.0.11.min.js", lambda route: held.append(route))
    page.context.route("https://example.com/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>Discord</title>"))
    # (the frame's load event waits for the held script: do not wait for the partner's)
    page.goto(partner.page(embed_html(live.url, "summer_games", widget_token("ada", name="Ada"))),
              wait_until="domcontentloaded")
    frame = page.wait_for_selector("iframe").content_frame()
    link = frame.wait_for_selector("a.qk-visit")  # parsed, but htmx is still loading
    assert held and frame.evaluate("document.documentElement.hasAttribute('data-qk-ready')") is False
    assert frame.evaluate("getComputedStyle(document.querySelector('a.qk-visit')).pointerEvents") == "none"
    held[0].continue_()
    frame.wait_for_selector(READY, state="attached")
    with page.context.expect_page() as popup_info:
        link.click()
    popup_info.value.close()
    frame.wait_for_selector("#qk-balance[data-balance='20']")
    assert page.js_errors == []


# -- 2. invite codes -------------------------------------------------------------------------

def test_invite_code_form_rejects_an_unknown_code_accepts_a_valid_one_and_reports_it_used_up(
        page, live, client, auth, publish, widget_token):
    publish(summer(invite_only=True))
    r = client.post("/api/v1/admin/campaigns/summer_games/codes", headers=auth,
                    json={"count": 1, "prefix": "VIP", "max_uses": 1})
    assert r.status_code == 201, r.json
    [code] = r.json["data"]["codes"]
    assert code.startswith("VIP-")

    open_preview(page, live, "summer_games", widget_token("ivy", name="Ivy"))
    form = page.locator("#qk-invite")
    # Until a code is claimed the campaign's actions stay locked.
    discord = page.locator("li.qk-action[data-action=join_discord]")
    assert discord.get_attribute("data-status") == "locked"
    assert "Claim an invite code first" in discord.inner_text()

    wrong = 'VIP-"><b>NOPE</b>'
    page.fill("#qk-code", wrong)
    page.click("#qk-invite button[type=submit]")
    error = page.locator("#qk-invite .qk-error")
    error.wait_for()
    assert error.inner_text() == "We don't know this code. Check it and try again."
    assert page.get_attribute("#qk-code", "aria-invalid") == "true"
    assert page.input_value("#qk-code") == wrong  # kept (as text), to be corrected
    assert page.locator("#qk-invite b").count() == 0
    assert shown_balance(page) == 0
    shot(page, "invite_wrong_code")

    page.fill("#qk-code", f"  {code} ")  # pasted with blanks
    page.click("#qk-invite button[type=submit]")
    page.wait_for_selector("#qk-invite >> text=accepted")
    assert f"Code {code} accepted: you're in." in form.inner_text()
    assert page.locator("#qk-code").count() == 0 and page.locator("#qk-invite .qk-error").count() == 0
    assert "Invite code accepted. Welcome!" in page.inner_text("#qk-toasts")
    # The quests came back out of band: unlocked, and the code's own action paid (40).
    assert discord.get_attribute("data-status") == "available"
    assert page.get_attribute("li.qk-action[data-action=vip_code]", "data-status") == "completed"
    assert shown_balance(page) == 40
    shot(page, "invite_accepted")

    # The code had one use: the next user hears it is used up.
    open_preview(page, live, "summer_games", widget_token("jon", name="Jon"))
    page.fill("#qk-code", code)
    page.click("#qk-invite button[type=submit]")
    page.wait_for_selector("#qk-invite .qk-error")
    assert page.inner_text("#qk-invite .qk-error") == "This code has been used up."
    assert page.input_value("#qk-code") == code
    assert page.get_attribute("li.qk-action[data-action=join_discord]", "data-status") == "locked"
    assert shown_balance(page) == 0
    r = client.get("/api/v1/code", headers=auth, query_string={"pid": "summer_games", "code": code})
    assert r.status_code == 200, r.json
    assert r.json["data"]["used_by"] == ["ivy"]
    assert page.js_errors == []


# -- 3. referral link ------------------------------------------------------------------------

def test_copy_button_copies_the_referral_link_to_the_partner_page(
        page, live, partner, client, auth, publish, widget_token):
    publish(summer(widget={"allowed_origins": [partner.url]}))
    frame = open_embedded(page, live, partner, "summer_games", widget_token("rae", name="Rae"))
    r = client.get("/api/v1/user/ref_id", headers=auth,
                   query_string={"account": "rae", "platform": "internal", "pid": "summer_games"})
    assert r.status_code == 200, r.json
    ref_id = r.json["data"]["ref_id"]
    # The embedding page's address (origin and path) with the user's referral id.
    link = frame.input_value("#qk-ref-link")
    assert link == f"{partner.url}/?ref={ref_id}"
    # Record how the copy is made: the Clipboard API, or the execCommand fallback.
    frame.evaluate("""() => {
      window.__copies = [];
      const write = navigator.clipboard.writeText.bind(navigator.clipboard);
      navigator.clipboard.writeText = (t) => write(t).then(
        () => { window.__copies.push("api:" + t); },
        (e) => { window.__copies.push("refused: " + e.name); throw e; });
      const exec = document.execCommand.bind(document);
      document.execCommand = (c, ...rest) => { window.__copies.push("exec:" + c); return exec(c, ...rest); };
    }""")
    button = frame.locator("#qk-referral button[data-copy]")
    assert button.inner_text() == "Copy"
    button.click()
    frame.wait_for_selector("#qk-referral button[data-copy]:text-is('Copied!')", timeout=3000)
    assert page.evaluate("navigator.clipboard.readText()") == link
    # The frame may use the Clipboard API (embed.js delegates clipboard-write to it).
    assert frame.evaluate("window.__copies") == [f"api:{link}"]
    shot(page, "referral_copied")
    assert page.js_errors == []


# -- 4. leaderboard --------------------------------------------------------------------------

def test_leaderboard_shows_the_users_own_rank_and_highlights_their_row(
        page, live, client, api_key, publish, widget_token):
    publish("default-example.json")
    # Seven users ahead of "me" (signup 500, purchase 100 each), one behind.
    for i, purchases in enumerate([7, 6, 5, 4, 3, 2, 1]):
        award(client, api_key, f"u{i}", displayName=f"Player {i}")
        for n in range(purchases):
            award(client, api_key, f"u{i}", "purchase", reference=f"u{i}-{n}")
    award(client, api_key, "me", displayName="Mia")
    award(client, api_key, "last", "purchase", displayName="Last")
    token = widget_token("me", name="Mia")

    open_preview(page, live, "default", token)
    board = page.locator("#qk-leaderboard")
    assert page.inner_text("#qk-my-rank") == "#8"
    rows = board.locator("li.qk-board-row")
    ranks = [t.strip() for t in rows.locator(".qk-board-rank").all_inner_texts()]
    # The top five, then the user's neighbours (two either side): here they
    # follow on directly, so no "…" marks left-out ranks.
    assert ranks == ["#1", "#2", "#3", "#4", "#5", "#6", "#7", "#8", "#9"]
    assert board.locator("li.qk-gap").count() == 0
    me = board.locator("li.qk-me-row")
    assert me.count() == 1
    assert me.locator(".qk-board-rank").inner_text() == "#8"
    assert me.locator(".qk-board-name").inner_text() == "Mia (you)"
    assert me.locator(".qk-board-score").inner_text() == "500"
    assert me.get_attribute("aria-current") == "true"
    # Highlighted: outlined, unlike every other row.
    outlines = rows.evaluate_all("rs => rs.map(r => getComputedStyle(r).outlineStyle)")
    assert outlines == ["none"] * 7 + ["solid", "none"]
    me.scroll_into_view_if_needed()
    board.screenshot(path=str(page.shots / "leaderboard.png"))
    shot(page, "leaderboard_page")

    # Someone overtakes the user; Refresh re-reads the board: now rank 6 is left out.
    award(client, api_key, "late", "purchase", displayName="Late", reference="late-1")
    award(client, api_key, "late", "purchase", reference="late-2")
    award(client, api_key, "late", "signup")
    board.locator("button", has_text="Refresh").click()
    page.wait_for_selector("#qk-my-rank:text-is('#9')")
    ranks = [t.strip() for t in rows.locator(".qk-board-rank").all_inner_texts()]
    assert ranks == ["#1", "#2", "#3", "#4", "#5", "#7", "#8", "#9", "#10"]
    assert board.locator("li.qk-gap").count() == 1
    assert me.locator(".qk-board-rank").inner_text() == "#9"
    assert page.js_errors == []


# -- 5. the wheel ----------------------------------------------------------------------------

def wheel_angle(svg) -> float:
    """The wheel's rotation as drawn now, in degrees [0, 360)."""
    return svg.evaluate("""s => {
      const m = new DOMMatrix(getComputedStyle(s).transform);
      return ((Math.atan2(m.b, m.a) * 180 / Math.PI) % 360 + 360) % 360;
    }""")


def check_wheel_landed(page, svg) -> str:
    """The wheel stopped on the server's outcome and the card says it; the outcome."""
    land = int(svg.get_attribute("data-land"))
    assert svg.get_attribute("data-landed") == str(land)
    n = int(svg.get_attribute("data-segments"))
    result = page.locator(f"{WHEEL} .qk-result")
    outcome = result.get_attribute("data-outcome")
    assert outcome in PRIZES
    # The segment under the pointer (at the top) is the one the server drew.
    assert svg.locator("text.qk-seg-label").nth(land).text_content() == outcome
    off = (wheel_angle(svg) + land * 360 / n) % 360
    assert min(off, 360 - off) < 0.5, f"the wheel stopped {off:.1f} degrees off segment {land}"
    expected = ("No prize this time. Try again!" if outcome == "Try again"
                else f"You won {outcome}: +{PRIZES[outcome]} points!")
    assert result.inner_text() == expected
    return outcome


def test_wheel_spin_reveals_the_servers_outcome_and_balance_and_is_disabled_when_unaffordable(
        page, live, client, api_key, publish, widget_token):
    publish("default-example.json")
    award(client, api_key, "sam", displayName="Sam")  # signup: 500
    open_preview(page, live, "default", widget_token("sam", name="Sam"))
    assert shown_balance(page) == 500
    play = page.locator(f"{WHEEL} button.qk-play")
    assert play.is_enabled()
    assert play.inner_text() == f"Play · {WHEEL_COST} points"

    play.click()
    svg = page.locator(f"{WHEEL} svg.qk-wheel[data-land]")
    svg.wait_for(timeout=5000)
    # The server has answered; the animation (the real one, ~3.2 s) has not revealed it yet.
    assert svg.get_attribute("data-landed") is None
    assert page.inner_text(f"{WHEEL} .qk-result") == ""
    page.wait_for_timeout(1000)
    shot(page, "wheel_spinning", full_page=False)
    assert svg.get_attribute("data-landed") is None
    # Nor do the balance and activity give it away while the wheel turns.
    assert shown_balance(page) == 500
    assert "Game played" not in page.inner_text("#qk-activity")
    page.wait_for_selector(f"{WHEEL} svg.qk-wheel[data-landed]", timeout=6000)
    outcome = check_wheel_landed(page, svg)

    expected = 500 - WHEEL_COST + PRIZES[outcome]
    assert server_balance(client, api_key, "sam") == expected
    assert shown_balance(page) == expected
    assert "Game played" in page.inner_text("#qk-activity")
    assert play.is_enabled()  # still affordable: ready for another spin
    page.locator(WHEEL).scroll_into_view_if_needed()
    shot(page, "wheel_landed", full_page=False)
    assert page.js_errors == []

    # A user without enough points cannot play: the button is disabled and says why.
    award(client, api_key, "pat", "purchase", displayName="Pat")  # 100: the slots' exact price
    open_preview(page, live, "default", widget_token("pat", name="Pat"))
    assert page.locator(f"{WHEEL} button.qk-play").is_enabled()
    slots = page.locator("#qk-game-COSMIC_SLOTS")
    assert slots.locator("button.qk-play").is_enabled()  # exactly 100
    open_preview(page, live, "default", widget_token("nia", name="Nia"))  # 0 points
    assert shown_balance(page) == 0
    assert page.locator(f"{WHEEL} button.qk-play").is_disabled()
    assert page.inner_text(f"{WHEEL} .qk-hint") == f"You need {WHEEL_COST} points to play."
    shot(page, "wheel_unaffordable")


# -- 6. play links ---------------------------------------------------------------------------

def emailed_link(smtp, to: str, base: str) -> str:
    """The play link in the plain-text part of the one e-mail sent to ``to``."""
    [msg] = [m for m in smtp.messages if m.rcpt_tos == [to]]
    text = msg.message.get_body(("plain",)).get_content()
    links = re.findall(re.escape(base) + r"/play\?token=[^\s]+", text)
    assert len(links) == 1, text
    return links[0]


def test_emailed_play_link_starts_a_widget_session_to_spin_and_an_expired_one_gets_a_friendly_page(
        page, live, smtp, clock, client, api_key, publish):
    publish("default-example.json")
    # After `live`: the award's link is built on PUBLIC_URL, the live server's address.
    data = award(client, api_key, "pia", displayName="Pia", email="pia@example.com", sendPlayLink=True)
    assert data["playLink"]["emailSent"] is True
    link = emailed_link(smtp, "pia@example.com", live.url)
    assert link == data["playLink"]["url"]

    r = page.goto(link)
    assert r.status == 200
    start = page.locator("form button[type=submit]")
    assert start.inner_text() == "Start playing"
    assert "Hi Pia!" in page.inner_text("h1")
    shot(page, "play_start")
    page.emulate_media(reduced_motion="reduce")  # the wheel lands at once
    with page.expect_navigation():
        start.click()
    page.wait_for_selector("#qk-balance")
    assert page.inner_text(".qk-name") == "Pia"
    assert shown_balance(page) == 500

    page.click(f"{WHEEL} button.qk-play")
    svg = page.locator(f"{WHEEL} svg.qk-wheel[data-landed]")
    svg.wait_for(timeout=5000)
    outcome = check_wheel_landed(page, svg)
    expected = 500 - WHEEL_COST + PRIZES[outcome]
    page.wait_for_selector(f"#qk-balance[data-balance='{expected}']")
    assert server_balance(client, api_key, "pia") == expected
    shot(page, "play_link_widget")
    assert page.js_errors == []

    # Spent: opening the link again says so.
    r = page.goto(link)
    assert r.status == 410
    assert page.inner_text("h1") == "This link has already been used"

    # Another user's link, opened after it expired: the friendly page, 410.
    data = award(client, api_key, "eli", displayName="Eli", email="eli@example.com", sendPlayLink=True,
                 linkExpiresInHours=1)
    link = emailed_link(smtp, "eli@example.com", live.url)
    clock.advance(hours=1, seconds=1)
    r = page.goto(link)
    assert r.status == 410
    assert page.inner_text("h1") == "This link has expired"
    assert "Ask for a new play link" in page.inner_text("main")
    assert page.locator("form").count() == 0
    shot(page, "play_link_expired")
    assert server_balance(client, api_key, "eli") == 500  # the award itself stands


# -- 7. escaping -----------------------------------------------------------------------------

def test_a_user_named_like_a_script_sees_the_name_as_text_and_no_script_runs(
        page, live, client, api_key, publish, widget_token):
    publish("default-example.json")
    other = '"><img src=x onerror=alert(2)>'
    award(client, api_key, "xss", displayName=XSS)
    award(client, api_key, "other", "purchase", displayName=other)
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    open_preview(page, live, "default", widget_token("xss", name=XSS))
    page.wait_for_load_state("load")
    assert page.text_content(".qk-name") == XSS
    assert page.inner_text("#qk-leaderboard .qk-me-row .qk-board-name") == f"{XSS} (you)"
    names = page.locator("#qk-leaderboard .qk-board-name").all_inner_texts()
    assert names == [f"{XSS} (you)", other]
    # Nothing of the names became markup.
    assert page.evaluate("[...document.scripts].filter(s => s.textContent.includes('alert')).length") == 0
    assert page.locator("#qk-body img[src=x]").count() == 0
    # Played once more after an htmx swap (the header and board come back out of band).
    page.click(f"{WHEEL} button.qk-play")
    # The header and board are swapped in once the wheel has landed.
    page.wait_for_selector(f"{WHEEL} svg.qk-wheel[data-landed]", timeout=8000)
    assert shown_balance(page) == server_balance(client, api_key, "xss") != 500
    assert page.text_content(".qk-name") == XSS
    assert page.inner_text("#qk-leaderboard .qk-me-row .qk-board-name") == f"{XSS} (you)"
    page.wait_for_timeout(300)
    assert dialogs == []
    shot(page, "xss_name")
    assert page.js_errors == []


# -- 8. small screens ------------------------------------------------------------------------

def test_widget_fits_a_360_px_wide_phone_without_horizontal_scrolling(
        page, live, partner, client, api_key, publish, widget_token):
    # Every part at once: quests, games (default example's), referral link, board, activity.
    doc = summer(games=default_doc()["games"], widget={"allowed_origins": [partner.url]})
    publish(doc)
    name = "Maximiliana Featherstonehaugh-Wolfeschlegelsteinhausen"
    token = widget_token("max", name=name)
    page.set_viewport_size({"width": 360, "height": 740})

    open_preview(page, live, "summer_games", token)
    assert page.locator("#qk-games svg.qk-wheel").count() == 1
    assert page.locator("#qk-quests li.qk-action").count() >= 5
    assert page.evaluate("document.documentElement.clientWidth") == 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.evaluate("document.body.scrollWidth") <= 360
    shot(page, "mobile_preview")

    # Embedded on a phone-sized partner page: neither the page nor the frame scrolls sideways.
    frame = open_embedded(page, live, partner, "summer_games", token)
    assert frame.input_value("#qk-ref-link").startswith(partner.url)
    page.wait_for_function("document.querySelector('iframe').getBoundingClientRect().height > 1000")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    inner = frame.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert inner[0] <= inner[1] <= 360
    shot(page, "mobile_embedded")
    assert page.js_errors == []


# -- logo ------------------------------------------------------------------------------------

def test_a_logo_that_fails_to_load_gives_way_to_the_campaign_name(page, live, publish, widget_token):
    doc = summer(branding={"logo_url": live.url + "/static/no-such-logo.png", "primary_color": "#4F46E5"})
    publish(doc)
    open_preview(page, live, "summer_games", widget_token("lou", name="Lou"))
    page.wait_for_selector(".qk-brand-name", state="visible")
    assert page.locator("img.qk-logo").is_hidden()
    assert page.inner_text(".qk-brand").strip() == doc["name"]
    # a logo that loads stays, and the name stays hidden
    # (an SVG with a viewBox only: no intrinsic size, yet it loads)
    doc["branding"]["logo_url"] = live.url + "/static/img/questkit-logo.svg"
    publish(doc)
    open_preview(page, live, "summer_games", widget_token("lou", name="Lou"))
    assert page.evaluate("document.querySelector('img.qk-logo').decode().then(() => true)")
    assert page.locator("img.qk-logo").is_visible() and page.locator(".qk-brand-name").is_hidden()
    assert page.js_errors == []
