"""The embedded local cloud: a moto server in its own process, with Cognito's e-mail behaviour filled in.

moto's Cognito accepts any confirmation code and sends no mail. Here sign-up and forgotten-password requests
make a real six-digit code, "send" it by writing the message to the local mailbox (a JSON-lines file, the same
one the notification path's SES mail lands in), and confirmation checks it, as Cognito does. Everything else is
moto as it is.

Run as ``python -m gears.local.cloud --port 4566 --mailbox .gears/mailbox.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import threading
import time
from pathlib import Path
from typing import Any


class Mailbox:
    """The local mailbox: one JSON object per line (to, from, subject, body, time, via)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def deliver(self, to: list[str], subject: str, body: str, *, sender: str, via: str) -> None:
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "to": to,
            "from": sender,
            "subject": subject,
            "body": body,
            "via": via,
        }
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


def read_mailbox(path: Path, to: str | None = None) -> list[dict[str, Any]]:
    """Every message in the mailbox, oldest first, optionally only those sent to ``to``."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            msg = json.loads(line)
            if to is None or to.lower() in [t.lower() for t in msg.get("to", [])]:
                out.append(msg)
    return out


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def patch_cognito(mailbox: Mailbox) -> None:
    """Give moto's Cognito real confirmation codes, delivered to the mailbox and checked on confirmation."""
    from moto.cognitoidp import responses
    from moto.cognitoidp.exceptions import CodeMismatchException
    from moto.cognitoidp.models import RegionAgnosticBackend

    cls = responses.CognitoIdpResponse
    original_sign_up = cls.sign_up
    original_confirm = cls.confirm_sign_up
    original_forgot = cls.forgot_password
    original_confirm_forgot = cls.confirm_forgot_password

    def pool_and_user(self: Any, client_id: str, username: str) -> tuple[Any, Any]:
        backend = RegionAgnosticBackend(self.current_account, self.region)._find_backend_for_clientid(client_id)
        for pool in backend.user_pools.values():
            if client_id in pool.clients:
                return pool, pool._get_user(username)
        return None, None

    def send_code(pool: Any, user: Any, code: str, purpose: str) -> None:
        email = user.attribute_lookup.get("email")
        if not email:
            return
        template = pool.extended_config.get("VerificationMessageTemplate") or {}
        if purpose == "signup":
            subject = template.get("EmailSubject") or "Your verification code"
            body = (template.get("EmailMessage") or "Your verification code is {####}").replace("{####}", code)
        else:
            subject = "Your password reset code"
            body = f"Your password reset code is {code}"
        mailbox.deliver([email], subject, body, sender="no-reply@verificationemail.com", via="cognito")

    def sign_up(self: Any) -> Any:
        result = original_sign_up(self)
        pool, user = pool_and_user(self, self._get_param("ClientId"), self._get_param("Username"))
        if user is not None:
            user.confirmation_code = _new_code()
            send_code(pool, user, user.confirmation_code, "signup")
        return result

    def confirm_sign_up(self: Any) -> Any:
        _, user = pool_and_user(self, self._get_param("ClientId"), self._get_param("Username"))
        if user is not None and getattr(user, "confirmation_code", None):
            if self._get_param("ConfirmationCode") != user.confirmation_code:
                raise CodeMismatchException("Invalid verification code provided, please try again.")
        result = original_confirm(self)
        if user is not None:
            user.confirmation_code = None
        return result

    def forgot_password(self: Any) -> Any:
        result = original_forgot(self)
        pool, user = pool_and_user(self, self._get_param("ClientId"), self._get_param("Username"))
        self.response_headers.pop("x-moto-forgot-password-confirmation-code", None)
        if user is not None:
            user.confirmation_code = _new_code()
            send_code(pool, user, user.confirmation_code, "reset")
        return result

    def confirm_forgot_password(self: Any) -> Any:
        _, user = pool_and_user(self, self._get_param("ClientId"), self._get_param("Username"))
        if user is not None and self._get_param("ConfirmationCode") != getattr(user, "confirmation_code", None):
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        return original_confirm_forgot(self)

    cls.sign_up = sign_up  # type: ignore[method-assign]
    cls.confirm_sign_up = confirm_sign_up  # type: ignore[method-assign]
    cls.forgot_password = forgot_password  # type: ignore[method-assign]
    cls.confirm_forgot_password = confirm_forgot_password  # type: ignore[method-assign]


def patch_ses(mailbox: Mailbox) -> None:
    """Copy every e-mail sent through moto's SES into the mailbox."""
    from moto.ses.models import SESBackend

    original_send = SESBackend.send_email

    def send_email(self: Any, source: str, subject: str, body: str, destinations: dict[str, list[str]]) -> Any:
        message = original_send(self, source, subject, body, destinations)
        to = [*destinations.get("ToAddresses", []), *destinations.get("CcAddresses", [])]
        mailbox.deliver(to, subject, body, sender=source, via="ses")
        return message

    SESBackend.send_email = send_email  # type: ignore[method-assign]


def serve(host: str, port: int, mailbox_path: Path) -> None:
    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    mailbox = Mailbox(mailbox_path)
    patch_cognito(mailbox)
    patch_ses(mailbox)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(f"local cloud listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description="Gears' embedded local cloud (moto server)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--mailbox", type=Path, default=Path(".gears/mailbox.jsonl"))
    args = parser.parse_args()
    serve(args.host, args.port, args.mailbox)


if __name__ == "__main__":
    main()
