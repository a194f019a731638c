"""engine.participation.games and the instant-win draw behind it, without Flask."""
from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from sqlalchemy import func, select

from engine.participation import games
from engine.run import instant_win
from engine import ledger
from engine.errors import Conflict, InsufficientBalance, NotFound
from models import LedgerEntry, Play

from tests.engine.world import REPO, T0, World

DEFAULT_EXAMPLE = json.loads((REPO / "examples" / "default-example.json").read_text())
TIERS = DEFAULT_EXAMPLE["mechanics"]["instant_win"]["tiers"]

# Chi-square critical values at p = 0.001 by degrees of freedom (standard tables).
CHI2_CRIT_001 = {1: 10.828, 2: 13.816, 3: 16.266, 4: 18.467, 5: 20.515}
DRAWS = 20_000


def chi_square(tiers: list[dict], outcomes: Counter, n: int) -> tuple[float, int]:
    """Pearson's statistic of observed outcomes (tier index or None) against the
    tiers' probabilities, "no prize" included; and its degrees of freedom."""
    expected = {i: t["probability"] * n for i, t in enumerate(tiers)}
    expected[None] = (1 - sum(t["probability"] for t in tiers)) * n
    stat = sum((outcomes.get(k, 0) - e) ** 2 / e for k, e in expected.items())
    return stat, len(expected) - 1


def sample(tiers: list[dict], seed: int, n: int = DRAWS) -> Counter:
    rng = random.Random(seed)
    return Counter(instant_win.pick(tiers, rng.random()) for _ in range(n))


@pytest.mark.parametrize("seed", [1, 2, 20261122])
def test_pick_follows_the_tier_probabilities_within_a_chi_square_bound(seed):
    stat, df = chi_square(TIERS, sample(TIERS, seed), DRAWS)
    assert df == 3  # three tiers and "no prize"
    assert stat < CHI2_CRIT_001[df], stat


def test_the_chi_square_bound_catches_a_skewed_draw():
    # Draws from tiers whose "Double up" is 12% instead of 10% must fail the test above.
    skewed = [dict(t) for t in TIERS]
    skewed[1]["probability"] = 0.12
    stat, df = chi_square(TIERS, sample(skewed, 1), DRAWS)
    assert stat > CHI2_CRIT_001[df], stat


def test_pick_edges():
    assert instant_win.pick(TIERS, 0.0) == 0
    assert instant_win.pick(TIERS, 0.0019) == 0
    assert instant_win.pick(TIERS, 0.002) == 1
    assert instant_win.pick(TIERS, 0.41) is None
    assert instant_win.pick([], 0.0) is None


# -- plays -------------------------------------------------------------------------------------------

@pytest.fixture
def world(session):
    w = World(session)
    w.publish(DEFAULT_EXAMPLE)
    return w


def fund(world, user, amount):
    view = world.live("default")
    ledger.post_entry(world.s, campaign_id=view.campaign.id, user_id=user.id, env="live",
                      kind="reward", amount=amount, now=T0)


def count(session, model, **where):
    return session.scalar(select(func.count()).select_from(model).filter_by(**where))


def test_catalog_reads_the_games_section(world):
    view = world.live("default")
    listed = games.list_games(view)
    assert [(g.type, g.points_to_unlock, g.active) for g in listed] == [
        ("NEON_WHEEL", 50, True), ("COSMIC_SLOTS", 100, True), ("ENIGMA_BOXES", 75, False)]
    assert games.get_game(view, "NEON_WHEEL").config == {"segments": 8}
    assert games.get_game(view, "COSMIC_SLOTS").config == {} and listed[1].image_url is None
    with pytest.raises(NotFound):
        games.get_game(view, "TETRIS")


def test_a_play_debits_strictly_draws_and_pays(world):
    view, alice = world.live("default"), world.user("alice")
    fund(world, alice, 120)
    rng = random.Random(7)
    expected = random.Random(7)
    for _ in range(2):
        played = games.play(world.s, view, alice, "NEON_WHEEL", now=T0, rng=rng)
        i = instant_win.pick(TIERS, expected.random())
        assert played.play.tier == (TIERS[i]["name"] if i is not None else None)
        assert played.play.source == "game" and played.play.points_spent == 50
    assert played.balance == ledger.sum_entries(world.s, view.campaign.id, alice.id, "live").total
    debits = [e.amount for e in ledger.entries(world.s, view.campaign.id, alice.id, "live")
              if e.kind == "play"]
    assert debits == [-50, -50]


def test_refusals_happen_before_anything_is_drawn_or_written(world):
    view, alice = world.live("default"), world.user("alice")
    fund(world, alice, 49)
    world.s.flush()
    before = (count(world.s, Play), count(world.s, LedgerEntry))

    class NoDraws:
        def random(self):
            raise AssertionError("drew for a refused play")

    with pytest.raises(InsufficientBalance):
        games.play(world.s, view, alice, "NEON_WHEEL", now=T0, rng=NoDraws())
    with pytest.raises(Conflict):
        games.play(world.s, view, alice, "ENIGMA_BOXES", now=T0, rng=NoDraws())
    with pytest.raises(NotFound):
        games.play(world.s, view, alice, "TETRIS", now=T0, rng=NoDraws())
    assert (count(world.s, Play), count(world.s, LedgerEntry)) == before


def test_standings_carry_game_counts_and_the_ranked_total(world):
    view = world.live("default")
    people = [world.user(f"u{i}") for i in range(5)]
    for i, u in enumerate(people):
        fund(world, u, 1000 - 100 * i)
    world.user("nobody")  # no positive total: not ranked
    for _ in range(3):
        games.play(world.s, view, people[2], "NEON_WHEEL", now=T0, rng=random.Random(1))
    page = games.standings(world.s, view, page=1, limit=2)
    assert page.total == 5 and page.total_pages == 3
    assert [r.standing.account for r in page.items] == ["u0", "u1"]
    third = games.standings(world.s, view, page=2, limit=2).items[0]
    assert third.standing.account == "u2" and third.games_played == 3
    won = count(world.s, Play, user_id=people[2].id) - count(world.s, Play, user_id=people[2].id, tier=None)
    assert third.rewards_won == won


def test_play_history_is_newest_first(world):
    view, alice = world.live("default"), world.user("alice")
    fund(world, alice, 1000)
    made = [games.play(world.s, view, alice, "NEON_WHEEL", now=T0, rng=random.Random(i)).play.play_id
            for i in range(5)]
    page = games.plays(world.s, view, alice, page=1, limit=3)
    assert [p.play_id for p in page.items] == made[::-1][:3] and page.total == 5
    assert [p.play_id for p in games.plays(world.s, view, alice, page=2, limit=3).items] == made[1::-1]
