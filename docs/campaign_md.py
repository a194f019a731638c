"""Writes docs/campaign.md from the campaign JSON Schema and the notes below.

    python docs/campaign_md.py > docs/campaign.md

Types, required fields, allowed values and limits come from
engine/definitions/campaign.schema.json; what a field means comes from
NOTES. tests/test_docs.py fails when docs/campaign.md is not what this
writes, or when a field of the schema has no note.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

SCHEMA = Path(__file__).resolve().parents[1] / "engine" / "definitions" / "campaign.schema.json"

NOTES = {
    "id": "The campaign's id (`pid` in the Campaign API). Letters, digits, `-` and `_`.",
    "slug": "The Rewards API's name for the campaign (`/v1/campaigns/{slug}/events`). Default: the id.",
    "name": "Shown in the widget, the dashboard and e-mails.",
    "description": "Shown under the name in the widget.",
    "status": "`active` (default) pays; `paused` and `ended` lock every action.",
    "starts_at": "ISO 8601. Before it, every action is locked.",
    "ends_at": "ISO 8601. After it, every action is locked.",
    "timezone": "IANA name (default `UTC`). Daily, weekly and monthly resets and streak days are "
                "counted in it.",
    "invite_only": "Only users who claimed an invite code take part; referral bonuses wait for "
                   "the code.",
    "quests": "Groups of actions. A quest completes once, when each of its non-optional actions has "
              "paid at least once.",
    "quest.id": "Unique among the campaign's quests.",
    "quest.name": "Shown in the widget.",
    "quest.description": "Shown under the quest's name.",
    "quest.actions": "The quest's actions, shaped as below.",
    "actions": "Actions outside any quest. Action ids are unique in the whole campaign.",
    "action.id": "The action's id (`aid`), unique in the campaign.",
    "action.name": "Shown in the widget.",
    "action.description": "Shown under the action's name.",
    "action.type": "What completes it: see the table of types below.",
    "action.xp": "Points paid on completion (default 0).",
    "action.xp_mul": "A percent bonus: the action pays floor(xp × (100 + xp_mul) / 100), so 100 xp "
                     "with xp_mul 5 pays 105.",
    "action.ref_xp": "Paid to the user's referrer (into their ref_xp) each time this user completes "
                     "the action.",
    "action.recurrence": "`once` (default) or a calendar period, `daily`, `weekly` (from Monday) or "
                         "`monthly`, in the campaign's timezone; progress resets each period.",
    "action.continuous": "`true`: it can pay again in every new period; `false` (default): only in "
                         "the first period it paid.",
    "action.progressive": "`true`: within a period it pays once per whole multiple of its threshold; "
                          "`false` (default): once per period.",
    "action.deps": "Ids of actions that must have paid at least once before this one unlocks.",
    "action.is_optional": "Not needed for its quest to complete.",
    "action.button_text": "The widget button's label.",
    "action.url": "`visit` actions: the link the widget opens.",
    "action.meta": "Free JSON, returned as is to clients.",
    "action.target": "`api_number`, `api_stream`, `events_value`: the threshold.",
    "action.stream": "`api_stream`: the stream's name (`POST /api/v1/stream/value`).",
    "action.event": "`events_count`, `events_value`: which events count (name and category; "
                    "platform optional).",
    "action.count": "`events_count`: how many events; `referrals`: how many referred users.",
    "action.query": "`events_value`: JMESPath giving the number(s) to add from each matching event, "
                    "e.g. `[].data.bet`.",
    "event_match.name": "The event's name (`eventType`, `event_type` in other dialects).",
    "event_match.category": "The event's category.",
    "event_match.platform": "Only events of users on this platform.",
    "seasons": "Consecutive seasons, each spanning max_xp of the points the campaign awarded to "
               "everyone. Past the last one the campaign stays in it.",
    "seasons[].name": "Shown in the widget's header.",
    "seasons[].max_xp": "The season's length in points awarded.",
    "leaderboard": "How the Campaign API's board answers.",
    "leaderboard.version": "1: the top 100. 2: paginated (offset, limit, or around=N), and the "
                           "caller's own rank; account and platform are required.",
    "referrals": "Bonuses paid once, when a user's referrer is first set (both into ref_xp).",
    "referrals.referee_bonus": "Paid to the referred user.",
    "referrals.referrer_bonus": "Paid to the referrer.",
    "reward_rules": "The Rewards API's `POST /v1/points/award`: points per event type.",
    "reward_rules[].event_type": "The award's eventType.",
    "reward_rules[].points": "Points paid per award.",
    "reward_rules[].max_per_user": "Awards (not points) a user may get of this rule.",
    "mechanics": "What events pay besides tasks.",
    "mechanics.points": "Points per event type.",
    "mechanics.points[].event_type": "The event's type.",
    "mechanics.points[].points": "A fixed number of points.",
    "mechanics.points[].points_query": "Or JMESPath over `{metadata: ...}` giving the points, "
                                       "floored; negative or not a number pays 0.",
    "mechanics.milestones": "Bonuses paid once, when the user's total earned reaches a threshold.",
    "mechanics.milestones[].code": "Unique among the milestones.",
    "mechanics.milestones[].name": "Shown to the user.",
    "mechanics.milestones[].threshold": "Total earned in the campaign.",
    "mechanics.milestones[].reward_points": "The bonus.",
    "mechanics.instant_win": "A prize draw on some events.",
    "mechanics.instant_win.event_types": "Events of these types draw.",
    "mechanics.instant_win.max_plays": "Draws per user (game plays do not count).",
    "mechanics.instant_win.prefix": "Win codes start with it.",
    "mechanics.instant_win.tiers": "The prizes; probabilities add up to at most 1, the rest is no "
                                   "prize.",
    "mechanics.instant_win.tiers[].name": "Shown with the win.",
    "mechanics.instant_win.tiers[].probability": "Chance of this prize per draw.",
    "mechanics.instant_win.tiers[].points": "Points the prize pays.",
    "mechanics.instant_win.tiers[].quantity": "How many exist; a draw on a sold-out prize is no "
                                              "prize.",
    "tiers": "Levels over the user's total earned; spending never demotes.",
    "tiers[].code": "Unique among the tiers.",
    "tiers[].name": "Shown to the user.",
    "tiers[].level": "Order of the tiers.",
    "tiers[].color": "`#rrggbb`.",
    "tiers[].points_required": "Total earned to reach it.",
    "badges": "Earned once, on a criterion.",
    "badges[].code": "Unique among the badges.",
    "badges[].name": "Shown to the user.",
    "badges[].rarity": "A label for display.",
    "badges[].criteria": "One of `{event_type, count}` (events of a type), `{points: n}` (total "
                         "earned) or `{streak: n}` (streak length).",
    "streaks": "Consecutive periods with any event or award.",
    "streaks.period": "`daily` or `weekly`.",
    "streaks.freezes": "Freezes keep a streak over a missed period.",
    "streaks.freezes.max": "Freezes a user can hold.",
    "streaks.freezes.earn_every": "One freeze per this many counted periods; one is spent "
                                  "automatically on a missed period.",
    "challenges": "Time-boxed goals: count events of a type between two dates.",
    "challenges[].code": "Unique among the challenges.",
    "challenges[].name": "Shown to the user.",
    "challenges[].event_type": "Which events count.",
    "challenges[].count": "How many.",
    "challenges[].starts_at": "ISO 8601.",
    "challenges[].ends_at": "ISO 8601.",
    "challenges[].reward_points": "Paid on completion.",
    "rewards": "The catalog users spend points on (Participants API).",
    "rewards[].code": "Unique among the rewards.",
    "rewards[].name": "Shown to the user.",
    "rewards[].cost": "Points spent.",
    "rewards[].quantity": "Stock; absent: unlimited.",
    "games": "Games of the widget and the play page; a play spends points_to_unlock and draws from "
             "mechanics.instant_win.tiers on the server.",
    "games[].type": "GamifyHost's game names.",
    "games[].name": "Shown to the user.",
    "games[].description": "Shown to the user.",
    "games[].points_to_unlock": "The cost of a play.",
    "games[].status": "Only `ACTIVE` games can be played.",
    "games[].image_url": "A picture for the game.",
    "games[].config": "Free JSON handed to the Games SDK.",
    "branding": "The widget's and e-mails' look.",
    "branding.logo_url": "Shown in the widget's header; when it fails to load the widget shows the "
                         "campaign's name instead.",
    "branding.primary_color": "`#rrggbb`.",
    "branding.accent_color": "`#rrggbb`.",
    "email": "The play-link e-mail; `{name}`, `{balance}` and `{link}` are replaced.",
    "email.subject": "The subject line.",
    "email.heading": "The heading.",
    "email.body": "The text.",
    "email.cta_text": "The button's label.",
    "widget": "The embedded widget.",
    "widget.allowed_origins": "Origins (`https://shop.example.com`, `https://*.example.com`) that "
                              "may frame the widget; absent or empty: any.",
}

ACTION_TYPES = [
    ("visit", "the user clicks it in the widget (it opens `url`)", "the widget"),
    ("api_call", "any call for it arrives", "`POST /api/v1/action/value`"),
    ("api_number", "the latest value is at least `target`", "`POST /api/v1/action/value`"),
    ("api_score", "never: each value is paid as xp at once", "`POST /api/v1/action/value`"),
    ("api_stream", "the values of its `stream` in the period add up to `target`",
     "`POST /api/v1/stream/value`"),
    ("events_count", "`count` events matching `event` arrived in the period", "events"),
    ("events_value", "the numbers `query` takes from matching events add up to `target` in the period",
     "events"),
    ("referrals", "the user referred `count` users", "referrals"),
    ("invite_code", "the user claimed an invite code", "`POST /api/v1/code`"),
]


def _resolve(node: dict, defs: dict) -> tuple[dict, str | None]:
    ref = node.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[1]
        return {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}, name
    return node, None


def _kind(node: dict) -> str:
    if node.get("enum"):
        return " \\| ".join(f"`{json.dumps(v)}`" for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        return "array"
    if node.get("oneOf"):
        return "object (one of several shapes)"
    return kind or "any"


def _limits(node: dict) -> str:
    parts = []
    for key, word in (("minLength", "min length"), ("maxLength", "max length"), ("minimum", "≥"),
                      ("exclusiveMinimum", ">"), ("maximum", "≤"), ("maxItems", "max items"),
                      ("format", "format")):
        if key in node:
            parts.append(f"{word} {node[key]}")
    return ", ".join(parts)


def rows(node: dict, defs: dict, path: str, note_key: str, required: set[str], out: list, sections: dict):
    """Table rows for the properties of ``node`` (an object schema)."""
    for name, prop in (node.get("properties") or {}).items():
        key = f"{note_key}.{name}" if note_key else name
        shown = f"{path}.{name}" if path else name
        resolved, ref = _resolve(prop, defs)
        kind, limits = _kind(resolved), _limits(resolved)
        item = None
        if resolved.get("type") == "array":
            item, item_ref = _resolve(resolved.get("items") or {}, defs)
            if item_ref in ("action", "quest"):
                kind = f"array of [{item_ref}s](#{item_ref}s)"
                sections[item_ref] = item
                item = None
            elif item.get("type") == "object":
                kind = "array of objects"
            else:
                kind = f"array of {_kind(item)}"
                limits = ", ".join(x for x in (limits, _limits(item)) if x)
        elif ref == "event_match":
            kind = "object: name, category, platform"
            sections["event_match"] = resolved
        out.append((shown, kind, "yes" if name in required else "", limits, NOTES[key]))
        if resolved.get("type") == "object" and resolved.get("properties") and ref != "event_match":
            rows(resolved, defs, shown, key, set(resolved.get("required", [])), out, sections)
        if item is not None and item.get("type") == "object":
            rows(item, defs, shown + "[]", key + "[]", set(item.get("required", [])), out, sections)


def table(entries: list) -> list[str]:
    lines = ["| field | type | required | limits | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{f}` | {k} | {r} | {lim} | {n} |" for f, k, r, lim, n in entries]
    return lines


def render(schema: dict) -> str:
    defs = schema["$defs"]
    sections: dict = {}
    top: list = []
    rows(schema, defs, "", "", set(schema.get("required", [])), top, sections)
    out = ["# The campaign document", "",
           "<!-- Written by docs/campaign_md.py from engine/definitions/campaign.schema.json: edit those. -->",
           "",
           "A campaign is one JSON document: stored as a draft with "
           "`PUT /api/v1/admin/campaigns/{pid}` (or the dashboard's editor, or "
           "`flask --app app campaign push`), made live by publishing. The server validates it "
           "with the JSON Schema it serves at `GET /schemas/campaign.json`; every error names its "
           "JSON path (`quests[0].actions[2].target: must be > 0`). Unknown fields are refused. "
           "[examples/campaign-example.json](../examples/campaign-example.json) and "
           "[examples/default-example.json](../examples/default-example.json) are complete "
           "examples; [concepts.md](concepts.md) explains the words.", "",
           "## Top level", ""]
    out += table(top)
    for name, title in (("action", "Actions"), ("quest", "Quests")):
        node = sections.get(name) or defs[name]
        entries: list = []
        rows(node, defs, "", name, set(node.get("required", [])), entries, sections)
        out += ["", f"## {title}", ""]
        if name == "action":
            out += ["An action (a task) sits in `actions` or in a quest's `actions`. It is locked "
                    "until its `deps` paid, and outside the campaign's dates or status; an event for "
                    "a locked action is stored but never counts for it, and "
                    "`POST /api/v1/action/value` on it answers 409.", ""]
        out += table(entries)
        if name == "action":
            out += ["", "| type | completes when | fed by |", "|---|---|---|"]
            out += [f"| `{t}` | {when} | {by} |" for t, when, by in ACTION_TYPES]
            match = defs["event_match"]
            entries = []
            rows(match, defs, "event", "event_match", set(match.get("required", [])), entries, sections)
            out += ["", "`event` (events_count, events_value):", ""] + table(entries)
    return "\n".join(out) + "\n"


def main() -> None:
    sys.stdout.write(render(json.loads(SCHEMA.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
