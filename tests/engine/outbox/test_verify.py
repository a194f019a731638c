"""engine.outbox.webhooks.verify: a receiver's check of a Standard Webhooks delivery."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from standardwebhooks.webhooks import Webhook

from engine.errors import Unauthorized
from engine.outbox import webhooks

SECRET = webhooks.generate_secret()
NOW = 1_800_000_000
BODY = '{"type":"points.rewarded"}'


def signed(msg_id: str = "msg_1", stamp: int = NOW, body: str = BODY) -> str:
    return webhooks.signature(SECRET, msg_id, stamp, body)


def test_a_delivery_signed_with_the_secret_passes_also_when_the_library_signed_it():
    webhooks.verify(SECRET, "msg_1", str(NOW), BODY, "v1,other " + signed(), NOW + 10)
    by_library = Webhook(SECRET).sign("msg_2", datetime.fromtimestamp(NOW, timezone.utc), BODY)
    webhooks.verify(SECRET, "msg_2", str(NOW), BODY, by_library, NOW)


@pytest.mark.parametrize("msg_id, stamp, body, now, why", [
    ("msg_1", str(NOW), BODY + " ", NOW, "bad signature"),          # the body was changed
    ("msg_9", str(NOW), BODY, NOW, "bad signature"),                # another message's id
    ("msg_1", str(NOW), BODY, NOW + 301, "too far"),                # replayed too late
    ("msg_1", "-5", BODY, NOW, "not a signed delivery"),            # no usable timestamp
    ("", str(NOW), BODY, NOW, "not a signed delivery"),             # no id
])
def test_a_changed_late_or_unsigned_delivery_is_refused(msg_id, stamp, body, now, why):
    with pytest.raises(Unauthorized, match=why):
        webhooks.verify(SECRET, msg_id, stamp, body, signed(), now)
