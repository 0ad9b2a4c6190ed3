"""The embedded local cloud: a moto server in its own process, with Cognito's e-mail behaviour filled in.

moto's Cognito accepts any confirmation code and sends no mail. Here sign-up and forgotten-password requests
make a real six-digit code, "send" it by writing the message to the local mailbox (a JSON-lines file, the same
one the notification path's SES mail lands in), and confirmation checks it, as Cognito does. Three more gaps
are closed the way Cognito behaves (see :func:`patch_cognito`): sign-out by an admin revokes the user's tokens
whatever name the admin gave the user by, a deleted user's tokens stop working, and repeated wrong passwords lock
the account out for a growing time. Everything else is moto as it is.

Run as ``python -m gears.local.cloud --port 4566 --mailbox .gears/mailbox.jsonl``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
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


# Cognito's lockout for failed password sign-ins ("Lockout behavior for failed sign-in attempts", Cognito developer
# guide): after n >= 5 consecutive wrong passwords the user is locked out for 2^(n-5) seconds, at most about 15
# minutes; attempts during a lockout answer NotAuthorizedException "Password attempts exceeded" and do not count; a
# successful sign-in, or 15 minutes without any attempt, starts the count again.
LOCKOUT_FREE_ATTEMPTS = 5
LOCKOUT_MAX_S = 15 * 60
LOCKOUT_IDLE_RESET_S = 15 * 60
LOCKOUT_MESSAGE = "Password attempts exceeded"
PASSWORD_FLOWS = frozenset({"USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})


@dataclass
class _Lockout:
    failures: int = 0
    locked_until: float = 0.0
    last_attempt: float = 0.0


def patch_cognito(mailbox: Mailbox, clock: Callable[[], float] = time.time) -> None:
    """Make moto's Cognito behave as Cognito does where Gears relies on it.

    - Real confirmation and reset codes, delivered to the mailbox and checked; a user is confirmed once (moto
      confirmed a confirmed user again, with any code).
    - ``AdminUserGlobalSignOut`` revokes the user's refresh tokens (and access tokens, for Cognito's own APIs such
      as ``GetUser`` and ``GlobalSignOut``) whatever username the caller names the user by: moto only revokes
      tokens issued under the very same string, so signing out by ``sub`` a user who signed in by email revoked
      nothing.
    - ``AdminDeleteUser`` revokes the user's tokens: moto kept them and failed with an internal error on refresh.
    - Account lockout for repeated wrong passwords, as described above :data:`LOCKOUT_FREE_ATTEMPTS`; moto has
      none.
    """
    _patch_codes(mailbox)
    _patch_revocation()
    _patch_lockout(clock)


def _patch_codes(mailbox: Mailbox) -> None:  # noqa: C901 - four small patches; the branches are theirs
    """Confirmation and reset codes: made, mailed and checked; a sign-up confirmed once."""
    from moto.cognitoidp import responses
    from moto.cognitoidp.exceptions import CodeMismatchException, NotAuthorizedError
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
        if user is not None and user.status != "UNCONFIRMED":
            # Cognito confirms a sign-up once; moto confirmed a confirmed user again, whatever the code.
            raise NotAuthorizedError(f"User cannot be confirmed. Current status is {user.status}")
        code = getattr(user, "confirmation_code", None) if user is not None else None
        if code and self._get_param("ConfirmationCode") != code:
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
        pool, user = pool_and_user(self, self._get_param("ClientId"), self._get_param("Username"))
        # An unknown user gets the wrong-code answer, as Cognito gives it with PreventUserExistenceErrors (moto
        # answered ResourceNotFoundException, as if the app client did not exist).
        if pool is not None and user is None:
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        if user is not None and self._get_param("ConfirmationCode") != getattr(user, "confirmation_code", None):
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        return original_confirm_forgot(self)

    cls.sign_up = sign_up  # type: ignore[method-assign]
    cls.confirm_sign_up = confirm_sign_up  # type: ignore[method-assign]
    cls.forgot_password = forgot_password  # type: ignore[method-assign]
    cls.confirm_forgot_password = confirm_forgot_password  # type: ignore[method-assign]


def _patch_revocation() -> None:
    """Global sign-out and deletion revoke the user's tokens, by whatever name the user is given."""
    from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool

    def sign_out(pool: Any, username: str) -> None:
        target = pool._get_user(username)
        if target is None:
            return original_sign_out(pool, username)

        def same_user(name: str) -> bool:
            return name == username or pool._get_user(name) is target

        for token, issued in list(pool.refresh_tokens.items()):
            if issued is not None and same_user(issued[1]):
                pool.refresh_tokens[token] = None
        for token, (_, name) in list(pool.access_tokens.items()):
            if same_user(name):
                pool.access_tokens.pop(token)
        return None

    def admin_delete_user(backend: Any, user_pool_id: str, username: str) -> None:
        pool = backend.describe_user_pool(user_pool_id)
        if pool._get_user(username) is not None:
            pool.sign_out(username)
        return original_delete(backend, user_pool_id, username)

    original_sign_out = CognitoIdpUserPool.sign_out
    original_delete = CognitoIdpBackend.admin_delete_user
    CognitoIdpUserPool.sign_out = sign_out  # type: ignore[method-assign,assignment]
    CognitoIdpBackend.admin_delete_user = admin_delete_user  # type: ignore[method-assign,assignment]


def _patch_lockout(clock: Callable[[], float]) -> None:  # noqa: C901 - the patches' closures count here
    """Account lockout after repeated wrong passwords (see :data:`LOCKOUT_FREE_ATTEMPTS`)."""
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.models import CognitoIdpBackend

    lockout_lock = threading.Lock()

    def guarded(pool: Any, auth_flow: str, params: dict[str, str] | None, attempt: Callable[[], Any]) -> Any:
        params = params or {}
        user = pool._get_user(params.get("USERNAME", "")) if pool is not None and auth_flow in PASSWORD_FLOWS else None
        if user is None:
            return attempt()
        now = clock()
        with lockout_lock:
            # Kept on the user itself: it goes with the account, and a deleted account's count with it.
            state = user.__dict__.setdefault("_gears_lockout", _Lockout())
            if state.failures and now - state.last_attempt >= LOCKOUT_IDLE_RESET_S:
                state.failures, state.locked_until = 0, 0.0
            state.last_attempt = now
            if now < state.locked_until:
                raise NotAuthorizedError(LOCKOUT_MESSAGE)
        wrong_password = user.enabled and params.get("PASSWORD") != user.password
        try:
            result = attempt()
        except NotAuthorizedError:
            if wrong_password:
                with lockout_lock:
                    state.failures += 1
                    if state.failures >= LOCKOUT_FREE_ATTEMPTS:
                        state.locked_until = now + min(2 ** (state.failures - LOCKOUT_FREE_ATTEMPTS), LOCKOUT_MAX_S)
            raise
        with lockout_lock:
            state.failures, state.locked_until = 0, 0.0
        return result

    def pool_of_client(backend: Any, client_id: str) -> Any:
        return next((p for p in backend.user_pools.values() if client_id in p.clients), None)

    def initiate_auth(backend: Any, client_id: str, auth_flow: str, auth_parameters: dict[str, str]) -> Any:
        return guarded(
            pool_of_client(backend, client_id),
            auth_flow,
            auth_parameters,
            lambda: original_initiate(backend, client_id, auth_flow, auth_parameters),
        )

    def admin_initiate_auth(
        backend: Any, user_pool_id: str, client_id: str, auth_flow: str, auth_parameters: dict[str, str]
    ) -> Any:
        return guarded(
            backend.user_pools.get(user_pool_id),
            auth_flow,
            auth_parameters,
            lambda: original_admin_initiate(backend, user_pool_id, client_id, auth_flow, auth_parameters),
        )

    original_initiate = CognitoIdpBackend.initiate_auth
    original_admin_initiate = CognitoIdpBackend.admin_initiate_auth
    CognitoIdpBackend.initiate_auth = initiate_auth  # type: ignore[method-assign,assignment]
    CognitoIdpBackend.admin_initiate_auth = admin_initiate_auth  # type: ignore[method-assign,assignment]


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


def speed_up_sqs_clock() -> None:
    """moto's SQS asks the time for every message of a queue on each send and receive, through datetime arithmetic;
    with a few thousand messages waiting that is most of the local cloud's CPU. The same milliseconds, cheaply."""
    from moto.core.utils import unix_time_millis
    from moto.sqs import models

    def now_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else unix_time_millis(dt)

    models.unix_time_millis = now_millis


# Threads that answer requests. A long poll holds one while it waits (every SQS poller thread and stream poller of
# the local runtime has one open), so there are enough for all of them and the functions' own calls besides.
SERVER_THREADS = 96


def serve(host: str, port: int, mailbox_path: Path) -> None:
    """Serve moto on ``host:port`` until SIGTERM or the parent process ends.

    The HTTP server is waitress, not the werkzeug development server moto ships with: werkzeug closes every
    connection after one answer and starts a thread per connection, so each AWS call from a function paid for a
    new TCP connection and a new thread (profiled: a third of the cloud's CPU in socket set-up and teardown while
    the start-up events were handled). waitress keeps connections alive and answers from a pool of threads."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from waitress.server import create_server

    from gears.local import chaos, moto_dynamodb, moto_fast

    moto_fast.import_ssm_without_ec2()
    moto_fast.share_cognito_signing_key()
    moto_dynamodb.apply()
    moto_fast.apply()
    chaos.patch_sqs()
    speed_up_sqs_clock()
    mailbox = Mailbox(mailbox_path)
    patch_cognito(mailbox)
    patch_ses(mailbox)
    app = chaos.wsgi(moto_fast.direct(DomainDispatcherApplication(create_backend_app)))
    server = create_server(
        app, host=host, port=port, threads=SERVER_THREADS, connection_limit=1000, channel_timeout=300, ident="moto"
    )

    def stop(*_: Any) -> None:  # the state is in memory only: nothing to flush
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the process group; the runtime stops us

    def watch_parent(parent: int) -> None:  # never outlive the runtime that started us
        while os.getppid() == parent:
            time.sleep(1)
        stop()

    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()

    def dump_operations() -> None:  # for `make bench`: DynamoDB operations served so far
        target = mailbox_path.parent / "dynamodb-operations.json"
        partitions = mailbox_path.parent / "dynamodb-partitions.json"  # writes per partition key, the busiest
        while True:
            time.sleep(0.5)
            with contextlib.suppress(RuntimeError):  # a writer may be counting right now; next time, then
                target.write_text(json.dumps(dict(moto_dynamodb.OPERATIONS)))
                partitions.write_text(json.dumps(moto_dynamodb.partition_report()))

    threading.Thread(target=dump_operations, daemon=True).start()
    print(f"local cloud listening on http://{host}:{port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()


def main() -> None:
    parser = argparse.ArgumentParser(description="Gears' embedded local cloud (moto server)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--mailbox", type=Path, default=Path(".gears/mailbox.jsonl"))
    args = parser.parse_args()
    serve(args.host, args.port, args.mailbox)


if __name__ == "__main__":
    main()
