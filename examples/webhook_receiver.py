"""A webhook receiver that verifies Questkit's deliveries with the standardwebhooks library.

Run: WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py  (RECEIVER_PORT, default 8765)
"""
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# The whsec_ secret that POST /api/v1/hook answered (or the one you registered).
webhook = Webhook(os.environ["WEBHOOK_SECRET"])


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            # Checks webhook-id, webhook-timestamp (5 minutes) and webhook-signature.
            event = webhook.verify(body, dict(self.headers))
        except WebhookVerificationError as exc:
            print("refused:", exc, flush=True)
            self.send_response(401)
            self.end_headers()
            return
        print("verified", self.headers["webhook-id"], event["type"], event["data"], flush=True)
        self.send_response(204)  # any 2xx: delivered; anything else is retried
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(os.environ.get("RECEIVER_PORT", "8765"))), Receiver).serve_forever()
