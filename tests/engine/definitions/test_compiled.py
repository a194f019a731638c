"""The compiled view holds the facts the widget shows, checked once per version."""
from __future__ import annotations

import json

from engine import definitions
from engine.definitions.compiled import compile_definition
from tests.engine.world import REPO

EXAMPLE = json.loads((REPO / "examples" / "campaign-example.json").read_text())


def compiled(**over):
    return compile_definition(definitions.normalize({**EXAMPLE, **over}))


def test_only_safe_origins_may_frame_the_widget():
    c = compiled(widget={"allowed_origins": ["https://partner.test", "javascript:alert(1)",
                                             "https://a.test; script-src *", "http://ok.test"]})
    assert c.allowed_origins == ("https://partner.test", "http://ok.test")
    assert compiled(widget={}).allowed_origins == ()  # no list: anyone may frame it


def visit(**fields) -> dict:
    return {"id": "hello", "name": "Say hello", "type": "visit", "xp": 5, **fields}


def test_actions_carry_their_link_button_and_description():
    a = compiled(actions=[visit(url="javascript:alert(1)", description="Say hi")]).actions["hello"]
    assert (a.url, a.button_text, a.description) == (None, "Go", "Say hi")
    a = compiled(actions=[visit(url="https://example.com/x", button_text="Open")]).actions["hello"]
    assert (a.url, a.button_text, a.description) == ("https://example.com/x", "Open", None)


def test_brand_referrals_prize_tiers_and_milestone_names():
    c = compiled(branding={"primary_color": "#112233"}, referrals={"referrer_bonus": 7},
                 mechanics={"instant_win": {"trigger_event": "spin", "tiers": [
                     {"name": "Gold", "probability": 0.1, "points": 100},
                     {"name": "Silver", "probability": 0.2, "points": 10}]},
                     "milestones": [{"code": "m1", "name": "First steps", "points_required": 10,
                                     "reward_points": 5}]})
    assert c.brand.primary == "#112233"
    assert c.has_referrals and c.referrer_bonus == 7
    assert c.prize_tiers == ("Gold", "Silver")
    assert c.milestone_names == {"m1": "First steps"}
    assert not compile_definition(definitions.normalize(
        {k: v for k, v in EXAMPLE.items() if k != "referrals"})).has_referrals
