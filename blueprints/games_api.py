"""Games SDK endpoints (SPEC §4): what GamifyHost's public SDK calls, in the Rewards dialect.

Shapes follow the fromJson methods of the Flutter SDK (gamifyhost_games,
lib/src/gamifyhost_api.dart): GameInfo, GameConfig, UserBalance,
LeaderboardEntry, PlayRecord and PaginationMeta. Every field it reads as
``int?`` is a JSON integer here, every ``String?`` a string (or null where
the SDK allows it), and ``outcome`` and ``config`` are objects, since the SDK
casts them to ``Map<String, dynamic>``.

The reads take any key of the organization, publishable (``pk_live_``, in
X-API-Key as the SDK sends it) or secret. Playing takes no API key: the
credential is the user's own widget token or play session, so a public key
embedded in an app can never spend anyone's points.
"""
from __future__ import annotations


from flask import Blueprint, request

from engine.participation import games
from engine.access import tokens
from engine.errors import Forbidden, Unauthorized
from engine.ledger import get_balances
from models import User
from settings import current_settings, services

from ._api import Ctx, Reply
from ._json import Param
from .dialects import X_API_KEY_HINT, rewards

bp = Blueprint("games_api", __name__, url_prefix="/v1")


def route(*args, **kw):
    """The Rewards dialect's routes; the SDK sends its key in X-API-Key."""
    return rewards.route(*args, key_hint=X_API_KEY_HINT, **kw)



PAGING = (
    Param("page", schema={"type": "integer", "minimum": 1, "maximum": 1_000_000_000},
          description="page number, from 1 (default 1)"),
    Param("limit", schema={"type": "integer", "minimum": 1, "maximum": games.MAX_LIMIT},
          description=f"items per page, 1-{games.MAX_LIMIT} (default {games.DEFAULT_LIMIT})"),
)


def _paging(ctx: Ctx) -> dict:
    return {"page": ctx.args["page"] or 1, "limit": ctx.args["limit"] or games.DEFAULT_LIMIT}


def _paginated(page: games.Page, items: list) -> Reply:
    # PaginatedResponse: the list in "data", PaginationMeta beside it.
    return Reply({"status": "success", "data": items,
                  "meta": {"page": page.page, "limit": page.limit, "total": page.total,
                           "totalPages": page.total_pages}}, raw=True)


def _game_info(game: games.Game) -> dict:
    return {"gameType": game.type, "name": game.name, "description": game.description,
            "pointsToUnlock": game.points_to_unlock, "status": game.status,
            "imageUrl": game.image_url}


# PlayRecord. The SDK reads rewardTier, rewardType and rewardLabel as
# non-null strings, rewardValue as an int and outcome as a JSON object, so:
#   a win:      rewardTier = the tier's name, rewardType "POINTS" (every
#               Questkit prize is points), rewardValue = the points won,
#               rewardLabel "<n> points", outcome {"result": "WIN", "won": true, ...}
#   no prize:   rewardTier "NONE", rewardType "NONE", rewardValue 0,
#               rewardLabel "No prize", outcome {"result": "LOSE", "won": false, ...}
# A win code is a voucher: it appears (in outcome.winCode) only in the answer
# to the play itself, sent to the user's own credential, never in the history
# that a public key can read.
def _play_record(play, *, with_code: bool = False) -> dict:
    won = play.tier is not None
    outcome = {"result": "WIN" if won else "LOSE", "won": won, "prizeTier": play.tier,
               "pointsWon": play.points_won}
    if with_code:
        outcome["winCode"] = play.win_code
    return {"playId": play.play_id, "gameType": play.game_type or "", "pointsSpent": play.points_spent,
            "rewardTier": play.tier if won else "NONE", "rewardType": "POINTS" if won else "NONE",
            "rewardValue": play.points_won,
            "rewardLabel": f"{play.points_won} points" if won else "No prize",
            "outcome": outcome, "playedAt": play.created_at}


# -- reads (publishable or secret key) -----------------------------------------------------------

@route(bp, "/games", summary="The default campaign's games (Games SDK)", publishable=True)
def list_games(ctx: Ctx):
    """The default campaign's games as the Games SDK lists them: type, name, cost and whether each is
    active. A publishable key may read it.
    """
    return [_game_info(g) for g in games.list_games(ctx.default_view())]


@route(bp, "/games/<game_type>/config", summary="One game and its configuration (Games SDK)",
       publishable=True, responses={404: "unknown game type"})
def game_config(ctx: Ctx, game_type: str):
    """One game and its configuration (prizes, cost, limits). A publishable key may read it."""
    game = games.get_game(ctx.default_view(), game_type)
    return {**_game_info(game), "config": game.config}


@route(bp, "/users/<user_id>/sdk-balance", summary="A user's total in the default campaign (Games SDK)",
       publishable=True, responses={404: "unknown user"})
def sdk_balance(ctx: Ctx, user_id: str):
    """A user's total in the default campaign, as the Games SDK shows it."""
    view = ctx.default_view()
    user = ctx.internal_user(user_id)
    total = get_balances(ctx.session, view.campaign.id, user.id, view.env).total
    return {"userId": user.account, "totalPoints": total, "displayName": user.name}


@route(bp, "/leaderboard", summary="The default campaign's standings, paginated (Games SDK)",
       publishable=True, query=PAGING)
def leaderboard(ctx: Ctx):
    """The default campaign's standings, paginated with page and limit."""
    page = games.standings(ctx.session, ctx.default_view(), **_paging(ctx))
    return _paginated(page, [
        {"rank": r.standing.rank, "userId": r.standing.account, "displayName": r.standing.name,
         "totalPoints": r.standing.score, "totalRewardsWon": r.rewards_won,
         "gamesPlayed": r.games_played, "score": r.standing.score}
        for r in page.items])


@route(bp, "/users/<user_id>/plays", summary="A user's game plays, newest first (Games SDK)",
       publishable=True, query=PAGING, responses={404: "unknown user"})
def user_plays(ctx: Ctx, user_id: str):
    """A user's game plays, newest first, with what each won."""
    view = ctx.default_view()
    page = games.plays(ctx.session, view, ctx.internal_user(user_id), **_paging(ctx))
    return _paginated(page, [_play_record(p) for p in page.items])


# -- play (the user's own credential) ---------------------------------------------------------------

def _user_credential() -> str | None:
    token = request.headers.get("X-User-Token")
    if token:
        return token.strip()
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _player(ctx: Ctx) -> None:
    """Authenticate a play: the widget token or play session names the user.

    Sets ctx.org_id (the token's organization decides whose default campaign
    this is), ctx.principal = (user, view) and a per-user idempotency scope.
    """
    token = _user_credential()
    if not token:
        raise Unauthorized("playing needs the user's widget token or play session "
                           "(Authorization: Bearer <token>)")
    try:
        user, _ = tokens.widget_user(ctx.session, current_settings().signing_secrets, token, ctx.now)  # not expired nor revoked
        org_id, user_id, campaign_id = user.org_id, user.id, None
    except Unauthorized:
        try:
            ps = tokens.read_play_session(current_settings().signing_secrets, token, now_ts=ctx.now.timestamp())
        except Unauthorized:
            raise Unauthorized("missing, invalid or expired user token") from None
        org_id, user_id, campaign_id = ps.org_id, ps.user_id, ps.campaign_id
    user = ctx.session.get(User, user_id)
    if user is None or user.org_id != org_id:
        raise Unauthorized("missing, invalid or expired user token")
    ctx.org_id = org_id
    view = ctx.default_view()
    if campaign_id is not None and campaign_id != view.campaign.id:
        raise Forbidden("this play session is for another campaign")
    ctx.principal = (user, view)
    ctx.idem_scope = f"game-play:{user.id}:"


@route(bp, "/games/<game_type>/play", "POST", auth=False, authenticate=_player,
       summary="Play a game for the user of a widget token or play session (Bearer or X-User-Token)",
       responses={401: "missing, invalid or expired user token", 404: "unknown game type",
                  409: "game inactive, or balance short of pointsToUnlock"})
def play_game(ctx: Ctx, game_type: str):
    """Play a game for the user who holds the credential: a widget token (GET /api/v1/token) or a play
    session from a play link, as Bearer or X-User-Token. An API key cannot play for a user. The cost
    is taken and the prize drawn in one step.
    """
    user, view = ctx.principal
    played = games.play(ctx.session, view, user, game_type, now=ctx.now, rng=services().rng)
    return {**_play_record(played.play, with_code=True), "userId": user.account,
            "balance": played.balance, "totalPoints": played.balance}
