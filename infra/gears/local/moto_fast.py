"""moto's server, minus the work it does per request that answers nothing.

Profiled under the demo data's start-up events (py-spy on the local cloud's process), the cloud was CPU-bound on
overhead rather than on DynamoDB or SQS: a GetItem cost 1.6 ms in moto's app, of which the item lookup was 4 %.
The rest, and what is done about it here (each change leaves every answer byte for byte as moto gives it; the
equivalence tests in ``tests/unit/test_moto_fast.py`` compare them):

- **Backend lookup** under one global lock per request, listing moto's package directory (a ``stat`` per
  service, about 150) and trying every service's URL patterns: the answer per host never changes, so it is kept.
- **Method discovery**: moto lists a handler class's methods with ``inspect.getmembers`` on every request; a
  class's methods do not change, so the list is kept per class.
- **DynamoDB (and its streams) without Flask**: their requests are JSON with an ``X-Amz-Target`` header, so they
  go straight to moto's handler (what moto's Flask view calls) instead of through Flask's routing and hooks.
- **Request ids**: moto draws each answer's 52-character request id one ``random.choice`` at a time (a tenth of a
  GetItem); the same alphabet and length come from one call for random bytes.
- **DynamoDB requests without the shape walk**: moto parses every request by walking the operation's input shape;
  a valid DynamoDB request comes out as its JSON body, blobs aside (decoded), so bodies without binary attributes
  are read as JSON (profiled: an eighth of the cloud's CPU while the demo data loads).
- **JSON answers without the shape walk**: moto 5 builds every answer by walking the operation's output shape
  with a generic attribute picker; most DynamoDB and SQS answers are already the wire's JSON document (a ``dict``
  of plain values under the shape's member names; blobs and timestamps converted as moto converts them), so those
  are dumped as they are. Anything else (a model object, a ``None``) goes the shape walk's way.
- **SQS queues that hold thousands of messages** (the demo data's start-up events): moto computed every queue
  attribute, three of them by a pass over all messages, to read the retention period once per message sent and
  received (and every attribute again on each send, for the one it reads), so a burst cost the square of its
  size; asked each message the time twice per receive; and deleted a message by rebuilding the message list. The
  retention period is read directly, a send computes only the attribute it reads, a receive asks the time once,
  and a delete removes the one message in place.

At start-up, one more: moto's SSM imports moto's EC2 at import time (for commands sent to EC2 instances and
AMI-typed parameters, neither of which the shop uses), and EC2's models load their regions, zones and instance
types from bundled JSON: 2.7 s of the cloud's CPU, a sixth of the shop's start-up, spent before the first
parameter is written. :func:`import_ssm_without_ec2` imports SSM with EC2's backends standing in lazily: the real
EC2 is imported the first time SSM asks it anything.

And one addition, for the local pollers (``gears.local.pollers``) to wake when work arrives instead of asking on a
fixed interval: a DynamoDB Streams ``GetRecords`` carrying the header ``X-Gears-Wait-Seconds: n`` that finds no
record waits up to ``n`` seconds for one to be written (SQS has this already: a long poll wakes on a send). Without
the header GetRecords answers at once, as DynamoDB Streams does.

Applied by the local cloud's process only (``gears.local.cloud``); the tests' in-process moto is untouched.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
import string
import threading
import time
from datetime import datetime
from typing import Any

_ORIGINALS: dict[str, Any] = {}
JSON_SERVICES = frozenset({"dynamodb", "dynamodbstreams", "sqs"})
DIRECT_TARGETS = ("DynamoDB_20120810.", "DynamoDBStreams_20120810.")


WAIT_HEADER = "X-Gears-Wait-Seconds"
# The local cloud's DynamoDB requests and stream reads take turns on this lock (gears.local.moto_dynamodb); a stream
# read asked to wait waits on the condition, which lets the lock go meanwhile, so the write it waits for can happen.
REQUESTS_LOCK = threading.RLock()
_STREAM_WRITTEN = threading.Condition(REQUESTS_LOCK)
_request = threading.local()


class _LazyEc2Backends:
    """``moto.ec2.ec2_backends``, imported when first used."""

    @staticmethod
    def _real() -> Any:
        import importlib

        return importlib.import_module("moto.ec2").ec2_backends

    def __getitem__(self, key: str) -> Any:
        return self._real()[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)


def share_cognito_signing_key() -> None:
    """moto gives each user pool the same bundled RSA key, importing it afresh per pool: joserfc checks the key's
    numbers each time (0.1 s of modular exponentiation). Imported once, the key is shared by every pool, as it was
    already the same key. Applied by the local cloud, and by the functional tests, which create a pool per test."""
    import functools
    import types

    from moto.cognitoidp import models

    if getattr(models.jwk, "_gears_shared_key", False):
        return
    real = models.jwk

    @functools.lru_cache(maxsize=8)
    def imported(text: str) -> Any:
        return real.RSAKey.import_key(json.loads(text))

    class RSAKey(real.RSAKey):
        @classmethod
        def import_key(cls, value: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(value, dict) and not args and not kwargs:
                return imported(json.dumps(value, sort_keys=True))
            return real.RSAKey.import_key(value, *args, **kwargs)

    shared = types.ModuleType(real.__name__)
    shared.__dict__.update(vars(real))
    shared.RSAKey = RSAKey  # type: ignore[attr-defined]
    shared._gears_shared_key = True  # type: ignore[attr-defined]
    models.jwk = shared


def import_ssm_without_ec2() -> None:
    """Import moto's SSM with a stand-in for ``moto.ec2`` that imports EC2 on first use (see the module's text).
    Nothing else sees the stand-in: it leaves ``sys.modules`` as soon as SSM has its reference."""
    import sys
    import types

    if "moto.ssm.models" in sys.modules or "moto.ec2" in sys.modules:
        return
    import moto

    stand_in = types.ModuleType("moto.ec2")
    stand_in.ec2_backends = _LazyEc2Backends()  # type: ignore[attr-defined]
    sys.modules["moto.ec2"] = stand_in
    try:
        import moto.ssm.models  # SSM's backend, with the stand-in as its EC2
    finally:
        if sys.modules.get("moto.ec2") is stand_in:
            del sys.modules["moto.ec2"]
        if getattr(moto, "ec2", None) is stand_in:
            delattr(moto, "ec2")


def apply() -> None:
    if _ORIGINALS:
        return
    from moto import backends
    from moto.core import responses
    from moto.dynamodb.models.table import StreamShard
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.models import ShardIterator
    from moto.moto_server import werkzeug_app
    from moto.sqs.models import Queue, SQSBackend
    from moto.utilities import aws_headers

    cls = werkzeug_app.DomainDispatcherApplication
    _ORIGINALS.update(
        modules=backends.list_of_moto_modules,
        backend_for_host=cls.get_backend_for_host,
        method_names=responses.method_names_from_class,
        execute_result=responses.ActionResult.execute_result,
        request_id=aws_headers.gen_amzn_requestid_long,
        parse_parameters=responses.BaseResponse.parse_parameters,
        shard_add=StreamShard.add,
        iterator_get=ShardIterator.get,
        retention=SQSBackend.is_message_valid_based_on_retention_period,
        queue_messages=Queue.messages,
        queue_attributes=Queue.attributes,
        send_message=SQSBackend.send_message,
        queue_delete=Queue.delete_message,
        queue_delayed=Queue.approximate_number_of_messages_delayed,
        queue_not_visible=Queue.approximate_number_of_messages_not_visible,
    )
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    cls.get_backend_for_host = functools.lru_cache(maxsize=512)(cls.get_backend_for_host)  # type: ignore[method-assign]
    responses.method_names_from_class = functools.cache(responses.method_names_from_class)
    responses.ActionResult.execute_result = _execute_result  # type: ignore[method-assign]
    aws_headers.gen_amzn_requestid_long = _request_id
    DynamoHandler.parse_parameters = _dynamodb_parameters  # type: ignore[method-assign]
    StreamShard.add = _shard_add  # type: ignore[method-assign]
    ShardIterator.get = _iterator_get  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = _within_retention  # type: ignore[method-assign]
    Queue.messages = property(_visible_messages)  # type: ignore[assignment,method-assign]
    Queue.attributes = property(_attributes)  # type: ignore[method-assign,assignment]
    SQSBackend.send_message = _send_message  # type: ignore[method-assign]
    Queue.delete_message = _delete_message  # type: ignore[method-assign]
    Queue.approximate_number_of_messages_delayed = property(_count_delayed)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages_not_visible = property(_count_not_visible)  # type: ignore[method-assign,assignment]


def remove() -> None:
    if not _ORIGINALS:
        return
    from moto import backends
    from moto.core import responses
    from moto.dynamodb.models.table import StreamShard
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.models import ShardIterator
    from moto.moto_server import werkzeug_app
    from moto.sqs.models import Queue, SQSBackend
    from moto.utilities import aws_headers

    aws_headers.gen_amzn_requestid_long = _ORIGINALS["request_id"]
    del DynamoHandler.parse_parameters  # the inherited one again
    StreamShard.add = _ORIGINALS["shard_add"]  # type: ignore[method-assign]
    ShardIterator.get = _ORIGINALS["iterator_get"]  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = _ORIGINALS["retention"]  # type: ignore[method-assign]
    Queue.messages = _ORIGINALS["queue_messages"]  # type: ignore[method-assign]
    Queue.attributes = _ORIGINALS["queue_attributes"]  # type: ignore[method-assign]
    SQSBackend.send_message = _ORIGINALS["send_message"]  # type: ignore[method-assign]
    Queue.delete_message = _ORIGINALS["queue_delete"]  # type: ignore[method-assign]
    Queue.approximate_number_of_messages_delayed = _ORIGINALS["queue_delayed"]  # type: ignore[method-assign]
    Queue.approximate_number_of_messages_not_visible = _ORIGINALS["queue_not_visible"]  # type: ignore[method-assign]
    backends.list_of_moto_modules = _ORIGINALS["modules"]
    werkzeug_app.DomainDispatcherApplication.get_backend_for_host = _ORIGINALS["backend_for_host"]  # type: ignore[method-assign]
    responses.method_names_from_class = _ORIGINALS["method_names"]
    responses.ActionResult.execute_result = _ORIGINALS["execute_result"]  # type: ignore[method-assign]
    _ORIGINALS.clear()


_ID_ALPHABET = string.ascii_letters + string.digits  # moto's
_BLOBS = (b'"B"', b'"BS"')


def _dynamodb_parameters(self: Any, request: Any) -> None:
    """A DynamoDB request's parameters: its JSON body as it is, unless it carries binary attributes. moto walks every
    request through the operation's input shape (an eighth of the cloud's CPU while demo data loads); for a valid
    DynamoDB request the walk gives back the body's JSON unchanged, except that blobs are base64-decoded, so a body
    that mentions ``"B"`` or ``"BS"`` anywhere takes moto's walk."""
    body = request.data
    if not body or any(blob in body for blob in _BLOBS):
        _ORIGINALS["parse_parameters"](self, request)
        return
    self.params = json.loads(body)


def _request_id(headerdict: dict[str, Any] | None = None) -> str:
    req_id = "".join(_ID_ALPHABET[b % 62] for b in secrets.token_bytes(52))
    if isinstance(headerdict, dict):
        headerdict["x-amzn-requestid"] = req_id
    return req_id


def _shard_add(self: Any, old: Any, new: Any) -> None:
    _ORIGINALS["shard_add"](self, old, new)
    with _STREAM_WRITTEN:
        _STREAM_WRITTEN.notify_all()


def _iterator_get(self: Any, limit: int = 1000) -> dict[str, Any]:
    wait_s = getattr(_request, "wait_s", 0.0)
    if wait_s > 0:
        shard = self.stream_shard
        with _STREAM_WRITTEN:
            _STREAM_WRITTEN.wait_for(
                lambda: shard.starting_sequence_number + len(shard.items) > self.sequence_number, timeout=wait_s
            )
    return _ORIGINALS["iterator_get"](self, limit)


def _send_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
    """moto's send, with ``queue.attributes`` answering only what a send reads of it (see :func:`_attributes`)."""
    _request.sending = True
    try:
        return _ORIGINALS["send_message"](self, queue_name, *args, **kwargs)
    finally:
        _request.sending = False


def _attributes(self: Any) -> dict[str, Any]:
    """A queue's attributes; during a send, only ``ContentBasedDeduplication`` (all that moto's send reads): the
    whole set counts the queue's messages three times over, once per message sent."""
    if getattr(_request, "sending", False):
        if not self.fifo_queue:
            return {}
        value = self.content_based_deduplication
        return {"ContentBasedDeduplication": str(value).lower() if isinstance(value, bool) else value}
    return dict(_ORIGINALS["queue_attributes"].fget(self))


def _within_retention(self: Any, queue_name: str, message: Any) -> bool:
    retention_s = int(self.get_queue(queue_name).message_retention_period)
    return bool(retention_s + message.sent_timestamp / 1000 > time.time())


def _visible_messages(self: Any) -> list[Any]:
    now = time.time() * 1000
    return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]


def _count_delayed(self: Any) -> int:
    now = time.time() * 1000
    return sum(1 for m in self._messages if now < m.delayed_until)


def _count_not_visible(self: Any) -> int:
    now = time.time() * 1000
    return sum(1 for m in self._messages if not now > m.visible_at)


def _delete_message(self: Any, receipt_handle: str) -> None:
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    if receipt_handle in self.deleted_messages:
        return  # deleted before: SQS answers success again
    for i, message in enumerate(self._messages):
        if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles:
            del self._messages[i]
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
            return
    raise ReceiptHandleIsInvalid()


class _NotWire(Exception):
    """A value the shape walk has more to do with than the JSON encoder would."""


def _wire(value: Any, shape: Any) -> Any:  # noqa: C901 - one branch per kind of shape, as the shape walk has
    """``value`` as the JSON protocol puts it on the wire for ``shape``: structures under their member names only,
    maps, lists, strings, numbers, booleans, blobs (base64) and timestamps (moto's own conversion); anything else
    (a model object, a ``None``, a renamed member) raises :class:`_NotWire` and goes the shape walk's way."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _NotWire
        members = shape.members
        out = {}
        for key, item in value.items():
            member = members.get(key)
            if member is None or member.serialization.get("name", key) != key:
                raise _NotWire
            out[key] = _wire(item, member)
        return out
    if kind == "map":
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise _NotWire
        return {k: _wire(v, shape.value) for k, v in value.items()}
    if kind == "list":
        if not isinstance(value, list):
            raise _NotWire
        return [_wire(v, shape.member) for v in value]
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind in ("double", "float") and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if kind == "blob" and isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if kind == "timestamp" and isinstance(value, datetime | int | float):
        return _timestamps()._convert_timestamp_to_str(
            value, shape.serialization.get("timestampFormat", "unixtimestamp")
        )
    raise _NotWire


@functools.cache
def _timestamps() -> Any:
    from moto.core.serialize import TimestampSerializer

    return TimestampSerializer("unixtimestamp")


def _execute_result(self: Any, context: Any) -> Any:
    result = self.result
    shape = context.operation_model.output_shape
    if (
        context.service_model.service_name in JSON_SERVICES
        and context.serializer_class.__name__ == "JSONSerializer"
        and shape is not None
        and isinstance(result, dict)
    ):
        try:
            body = json.dumps(_wire(result, shape))
        except _NotWire:
            pass
        else:
            content_type = context.service_model.metadata.get("jsonVersion", "1.0")
            return 200, {"Content-Type": f"application/x-amz-json-{content_type}"}, body
    return _ORIGINALS["execute_result"](self, context)


def direct(app: Any) -> Any:
    """WSGI: DynamoDB and DynamoDB Streams requests to moto's handlers without Flask (what moto's Flask view,
    ``convert_to_flask_response``, does, minus Flask); every other request to ``app``."""
    from botocore.exceptions import ClientError
    from moto.core.request import Request
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from werkzeug.wrappers import Response

    class ServerRequest(Request):
        from_wsgi_server = True

    handlers = {DIRECT_TARGETS[0]: DynamoHandler.dispatch, DIRECT_TARGETS[1]: DynamoDBStreamsHandler.dispatch}

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        dispatch = handlers.get(target[: target.find(".") + 1]) if environ.get("REQUEST_METHOD") == "POST" else None
        if dispatch is None:
            return app(environ, start_response)
        request = ServerRequest(environ)
        _request.wait_s = _wait_seconds(environ)
        try:
            result = dispatch(request, request.raw_url, dict(request.headers))
        except ClientError as exc:
            result = 400, {}, exc.response["Error"]["Message"]
        finally:
            _request.wait_s = 0.0
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        return Response(response=content, status=status, headers=headers)(environ, start_response)

    return wsgi


def _wait_seconds(environ: dict[str, Any]) -> float:
    try:
        return min(max(float(environ.get("HTTP_X_GEARS_WAIT_SECONDS") or 0), 0.0), 20.0)
    except ValueError:
        return 0.0
