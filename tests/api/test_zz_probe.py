from sqlalchemy import create_engine, text
from tests.conftest import PG_URL
from .test_webhooks import *  # noqa

def test_probe(app, client, auth, receiver, db_url):
    ok(register(client, auth, receiver.url()))
    reward(client, auth, "alice", 5, "r1")
    seen = []
    eng = create_engine(db_url)
    def probe(i, rec):
        with eng.connect() as c:
            if PG_URL:
                seen.append(c.execute(text("select state, left(query, 80) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()")).all())
            else:
                seen.append(c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").all())
    receiver.on_request = probe
    work(app)
    print("SEEN", seen)
    eng.dispose()
