"""The operator dashboard in a real browser (SPEC §8): log in, edit, validate,
diff and publish a campaign's draft, generate invite codes, read the analytics
charts and adjust a user's points. Each test saves screenshots of its main
states in ``page.shots`` and checks that the pages ran without script errors
or Content Security Policy violations."""
from __future__ import annotations

import json

import pytest

from engine.access import operators
from extensions import db
from tests.browser.conftest import EXAMPLES

EMAIL, PASSWORD = "ops@acme.test", "correct horse battery"
PID = "summer_games"


# -- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def operator(app, org, clock):
    with app.app_context():
        operators.create_operator(db.session, org[0], EMAIL, PASSWORD, clock.now())
        db.session.commit()
    return EMAIL


@pytest.fixture
def console(page):
    """Console messages of the page and its frames; external addresses get a stand-in."""
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(f"{msg.type}: {msg.text}"))
    # The example's logo (https://example.com/...) is outside this closed network.
    page.context.route("https://**", lambda route: route.fulfill(status=404, body=""))
    return messages


def csp_violations(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m]


def summer() -> dict:
    return json.loads((EXAMPLES / "campaign-example.json").read_text())


def log_in(page, live) -> None:
    r = page.goto(f"{live.url}/dashboard/login")
    assert r.status == 200
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.url == f"{live.url}/dashboard"
    assert EMAIL in page.inner_text(".dash-logout")


def shot(page, name: str) -> None:
    page.screenshot(path=str(page.shots / f"{name}.png"), full_page=True)


def flashes(page) -> list[str]:
    return [t.strip() for t in page.locator(".dash-flash").all_inner_texts()]


def live_campaign(client, auth) -> dict:
    r = client.get(f"/api/v1/admin/campaigns/{PID}", headers=auth)
    assert r.status_code == 200, r.json
    return r.json["data"]


# -- 1. campaign: edit, diff, publish, invalid draft, invite codes ---------------------------

def test_operator_edits_diffs_and_publishes_the_draft_sees_errors_at_their_paths_and_generates_codes(
        page, console, live, client, auth, publish, operator):
    publish("campaign-example.json")
    assert live_campaign(client, auth)["version"] == 1
    log_in(page, live)
    page.click(f"a[href='/dashboard/campaigns/{PID}']")
    page.wait_for_selector("#definition")
    assert page.inner_text("h1") == f"Summer Gaming Challenge {PID}"
    assert "Live version 1" in page.inner_text("main")
    assert page.inner_text("#diff").endswith("The draft is what is live.")
    assert json.loads(page.input_value("#definition")) == summer()

    # Edit the draft: a new name, saved; the diff shows the one changed line.
    doc = summer()
    doc["name"] = "Summer Games 2027"
    page.fill("#definition", json.dumps(doc, indent=2))
    with page.expect_navigation():
        page.click("#editor button[type=submit]")
    assert page.url.endswith(f"/dashboard/campaigns/{PID}#diff")
    assert flashes(page) == ["Draft saved. Publish it to make it live."]
    rows = page.locator("#diff table.dash-diff tbody tr")
    assert rows.count() == 1
    # Live left, draft right, the JSON's indentation kept.
    assert rows.locator("td").all_inner_texts() == ['  "name": "Summer Gaming Challenge",',
                                                     '  "name": "Summer Games 2027",']
    assert "1 changed lines." in page.inner_text("#diff")
    assert live_campaign(client, auth)["definition"]["name"] == "Summer Gaming Challenge"  # not yet live
    page.locator("#diff").scroll_into_view_if_needed()
    shot(page, "campaign_diff")

    # Publish: version 2 is live, the page and the Management API agree.
    publish_button = page.locator("#diff button[type=submit]")
    assert publish_button.inner_text() == "Publish version 2"
    with page.expect_navigation():
        publish_button.click()
    assert flashes(page) == ["Published version 2."]
    assert page.inner_text("h1") == f"Summer Games 2027 {PID}"
    assert "Live version 2" in page.inner_text("main")
    assert page.inner_text("#diff").endswith("The draft is what is live.")
    data = live_campaign(client, auth)
    assert (data["version"], data["definition"]["name"], data["draft_differs"]) == (2, "Summer Games 2027", False)
    shot(page, "campaign_published")

    # An invalid draft is not saved: the error is listed at its JSON path, the text is kept.
    bad = json.loads(json.dumps(doc))
    bad["actions"][0]["xp"] = "lots"
    bad_text = json.dumps(bad, indent=2)
    page.fill("#definition", bad_text)
    with page.expect_navigation() as nav:
        page.click("#editor button[type=submit]")
    assert nav.value.status == 400
    alert = page.locator("#editor .dash-error[role=alert]")
    assert alert.inner_text().startswith("The draft was not saved:")
    issues = alert.locator(".dash-issues li").all_inner_texts()
    assert issues == ["actions[0].xp: must be an integer"]
    assert page.input_value("#definition") == bad_text
    assert page.inner_text("#diff").endswith("The draft is what is live.")
    shot(page, "campaign_invalid_draft")
    r = client.get(f"/api/v1/admin/campaigns/{PID}", headers=auth, query_string={"env": "dev"})
    assert r.json["data"]["definition"]["actions"][0]["xp"] == 20  # the draft stands

    # Not JSON at all: one issue for the whole document.
    page.fill("#definition", '{"id": "summer_games",')
    with page.expect_navigation():
        page.click("#editor button[type=submit]")
    [issue] = page.locator("#editor .dash-issues li").all_inner_texts()
    assert issue.startswith("(document): not valid JSON:")

    # Invite codes: three with a prefix, listed unused in the table.
    page.goto(f"{live.url}/dashboard/campaigns/{PID}")
    assert "No codes yet." in page.inner_text("#codes")
    codes_form = page.locator("#codes form")
    codes_form.locator("input[name=count]").fill("3")
    codes_form.locator("input[name=prefix]").fill("DASH")
    with page.expect_navigation():
        codes_form.locator("button[type=submit]").click()
    assert page.url.endswith("#codes")
    assert flashes(page) == ["3 codes generated."]
    table = page.locator("#codes table.dash-table tbody tr")
    assert table.count() == 3
    shown = [t.strip() for t in table.locator("td:first-child").all_inner_texts()]
    assert all(c.startswith("DASH-") for c in shown) and len(set(shown)) == 3
    assert [t.strip() for t in table.locator("td:nth-child(2)").all_inner_texts()] == ["0 / 1"] * 3
    for code in shown:  # real codes of the live campaign, unused
        r = client.get("/api/v1/code", headers=auth, query_string={"pid": PID, "code": code})
        assert r.status_code == 200, r.json
        assert r.json["data"]["used_by"] == []
    page.locator("#codes").scroll_into_view_if_needed()
    shot(page, "campaign_codes")

    assert page.js_errors == []
    assert csp_violations(console) == []


# -- 2. analytics and a user's points --------------------------------------------------------

def test_operator_reads_analytics_charts_opens_a_user_and_adjusts_their_points(
        page, console, live, client, auth, publish, operator):
    publish("campaign-example.json")
    who = {"platform": "wowhaus", "pid": PID}
    for account, rid, xp in [("ada", "welcome", 120), ("bob", "welcome", 60), ("ada", "bonus", 30)]:
        r = client.post("/api/v1/user/reward", headers=auth, json={**who, "account": account, "id": rid, "xp": xp})
        assert r.status_code == 200, r.json
    for i in range(3):
        r = client.post("/api/v1/event", headers=auth,
                        json={**who, "account": "ada", "name": "GameSession", "category": "dices",
                              "id": f"roll-{i}", "data": {"bet": 50}})
        assert r.status_code == 200, r.json

    def balance(account: str) -> dict:
        r = client.get("/api/v1/user/balance", headers=auth, query_string={**who, "account": account})
        assert r.status_code == 200, r.json
        return r.json["data"]

    before = balance("ada")
    ada_total = before["xp"] + before["ref_xp"] + before["ugc_xp"]
    assert ada_total >= 150
    bob_total = sum(balance("bob").values())

    log_in(page, live)
    page.goto(f"{live.url}/dashboard/campaigns/{PID}")
    with page.expect_navigation():
        page.click("main a:text-is('Analytics')")
    assert page.url == f"{live.url}/dashboard/campaigns/{PID}/analytics"
    assert int(page.inner_text("#stat-points")) == ada_total + bob_total

    # Three server-rendered SVG bar charts; today's bar carries the day's numbers in its <title>.
    charts = page.locator("figure.dash-chart")
    assert charts.count() == 3
    captions = [c.split(" per day")[0] for c in charts.locator("figcaption").all_inner_texts()]
    assert captions == ["Points awarded", "Events", "Active users"]
    today = "2026-11-22"  # the test clock's day (in Europe/Berlin too)
    expected = {"Points awarded": ada_total + bob_total, "Events": 3, "Active users": 2}
    for i, label in enumerate(captions):
        svg = charts.nth(i).locator("svg[role=img]")
        assert svg.is_visible()
        assert svg.get_attribute("aria-label").endswith(f"total {expected[label]}")
        bars = svg.locator("rect.dash-bar")
        assert bars.count() == 30
        titles = bars.locator("title").all_text_contents()
        assert titles[-1] == f"{today}: {expected[label]}"
        assert all(t.endswith(": 0") for t in titles[:-1])
        box = bars.last.bounding_box()
        assert box and box["height"] > 10  # drawn, at full height: the day is the peak
    shot(page, "analytics")

    # The users table; typing a search swaps it in place (htmx), then open Ada's page.
    users = page.locator("#users tbody tr")
    assert users.count() == 2
    assert "2 participants" in page.inner_text("#users")
    page.evaluate("window.__sameDocument = true")
    page.locator("#q").press_sequentially("ad")
    page.wait_for_selector("#users p:text('1 participant matching')")
    assert users.locator("td:first-child").all_inner_texts() == ["ada"]
    assert page.evaluate("window.__sameDocument") is True  # no reload
    with page.expect_navigation():
        page.locator("#users a:text-is('ada')").click()
    assert "/users/" in page.url
    assert page.inner_text("h1").startswith("ada")
    assert int(page.inner_text("#user-total")) == ada_total

    # An adjustment with a reason: the page shows the new total, and so does the Campaign API.
    page.fill("#amount", "25")
    page.fill("#reason", "Goodwill for a support ticket")
    with page.expect_navigation():
        page.click("form[action$='/adjust'] button[type=submit]")
    new_total = ada_total + 25
    assert flashes(page) == [f"Adjusted by +25: the balance is now {new_total}."]
    assert int(page.inner_text("#user-total")) == new_total
    first = page.locator("section[aria-labelledby=ledger-title] tbody tr").first
    cells = first.locator("td").all_inner_texts()
    assert cells[1:3] == ["adjustment", "+25"]
    assert json.loads(cells[3]) == {"operator": EMAIL, "reason": "Goodwill for a support ticket"}
    sources = dict(zip(page.locator("section[aria-labelledby=src-title] th").all_inner_texts(),
                       page.locator("section[aria-labelledby=src-title] td").all_inner_texts()))
    assert sources["adjustment"] == "25"
    after = balance("ada")
    assert after["xp"] + after["ref_xp"] + after["ugc_xp"] == new_total
    shot(page, "user_adjusted")

    # Taking away more than the user has is refused, with the reason on the page.
    page.fill("#amount", str(-(new_total + 1)))
    page.fill("#reason", "Too much")
    with page.expect_navigation():
        page.click("form[action$='/adjust'] button[type=submit]")
    assert page.locator(".dash-flash-error").count() == 1
    assert int(page.inner_text("#user-total")) == new_total
    assert sum(balance("ada").values()) == new_total

    assert page.js_errors == []
    assert csp_violations(console) == []
