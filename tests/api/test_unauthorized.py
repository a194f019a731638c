"""Every 401 for a missing or wrong API key names the header its dialect reads."""
from __future__ import annotations

import pytest

CASES = [
    # (path, headers with a wrong key, where the message is, the header named)
    ("/api/v1/user/balance?account=a&platform=p&pid=default", {"Authorization": "Bearer nope"},
     lambda j: j["error"], "Authorization header as Bearer <key>"),
    ("/api/v1/admin/campaigns/default", {"Authorization": "Bearer nope"},
     lambda j: j["error"], "Authorization header as Bearer <key>"),
    ("/v1/users/alice", {"X-API-Secret": "nope"}, lambda j: j["message"], "X-API-Secret header"),
    ("/v1/games", {"X-API-Key": "nope"}, lambda j: j["message"], "X-API-Key header"),
    ("/api/v1/gamify/participants/alice", {"X-API-Key": "nope"},
     lambda j: j["error"]["message"], "X-API-Key header"),
]


@pytest.mark.parametrize("path,headers,message,header", CASES)
@pytest.mark.parametrize("send", [False, True])
def test_a_401_names_the_header_the_dialect_expects(client, path, headers, message, header, send):
    r = client.get(path, headers=headers if send else {})
    assert r.status_code == 401
    assert message(r.json) == f"missing or invalid API key: send it in the {header}"
