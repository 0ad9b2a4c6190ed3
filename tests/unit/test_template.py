"""Structural invariants of ``template.yaml`` that every function, table, queue, stream and route must keep.

cfn-lint checks that the template is valid; these check that it is *ours*: each function on the Lambda runtime the
code is written for, with the shared layer and a log group that expires; each table billed on demand and
recoverable; no message that can be lost or block a queue or a stream; and no route open to anonymous callers
unless the API contract (../shared/API.md) says it is public. Every check runs for each stage, since conditions
(``IsProd``) change what a stage deploys.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gears.local.template import Function, Template, references
from gears_shared.consumers import EventNotReady, not_ready_span_s

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
STAGES = ("dev", "staging", "prod")
RUNTIME = "python3.11"
SHARED_LAYER_DIR = "shared"

# Routes any client may call without a token, exactly as ../shared/API.md marks them "public" (PayPal's redirects,
# the checkout's link to PayPal's page, which a browser follows without a token, and what is popular, for a
# storefront's front page), and the providers' webhooks,
# which prove themselves (Stripe's signature, PayPal's verification). A route that turns off the JWT authorizer must
# be listed here.
PUBLIC_ROUTES = frozenset(
    {
        ("POST", "/auth/signup"),
        ("POST", "/auth/confirm"),
        ("POST", "/auth/login"),
        ("POST", "/auth/refresh"),
        ("POST", "/auth/password/forgot"),
        ("POST", "/auth/password/reset"),
        ("GET", "/products"),
        ("GET", "/products/{productId}"),
        ("GET", "/categories"),
        ("GET", "/search"),
        ("GET", "/products/{productId}/related"),
        ("GET", "/recommendations/popular"),
        ("POST", "/payments/webhooks/stripe"),
        ("POST", "/payments/webhooks/paypal"),
        ("GET", "/payments/paypal/approve"),
        ("GET", "/payments/paypal/return"),
        ("GET", "/payments/paypal/cancel"),
        ("GET", "/notifications/unsubscribe"),
        ("POST", "/notifications/unsubscribe"),
    }
)

STREAM_EVENTS = ("DynamoDB", "Kinesis")
# Property names under which a resource names where its failed messages go: whatever they reference is a DLQ.
DEAD_LETTER_KEYS = frozenset({"deadLetterTargetArn", "DeadLetterQueue", "DeadLetterConfig", "OnFailure"})


@pytest.fixture(scope="module", params=STAGES)
def template(request: pytest.FixtureRequest) -> Template:
    return Template(TEMPLATE, {"Stage": request.param})


def resolved(template: Template, value: Any) -> Any:
    """``value`` with parameters, conditions and pseudo parameters evaluated; resources stand for their names."""
    return template.resolve(value, lambda lid, attr: f"{lid}.{attr}" if attr else lid)


def functions(template: Template) -> list[Function]:
    found = list(template.functions().values())
    assert found, "the template declares no AWS::Serverless::Function"
    return found


def events(template: Template, *types: str) -> Iterator[tuple[Function, str, dict[str, Any]]]:
    for fn in functions(template):
        for event in fn.events:
            if event.type in types:
                yield fn, event.name, event.properties


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in a nested structure of dicts and lists."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def assert_none(violations: list[str]) -> None:
    assert not violations, "\n".join(violations)


# -- functions ----------------------------------------------------------------------------------------------------
def test_every_function_runs_on_the_python_runtime_the_code_targets(template: Template) -> None:
    assert_none(
        [
            f"{fn.logical_id}: Runtime is {resolved(template, fn.properties.get('Runtime'))!r}, not {RUNTIME}"
            for fn in functions(template)
            if resolved(template, fn.properties.get("Runtime")) != RUNTIME
        ]
    )


def test_every_function_has_the_shared_layer(template: Template) -> None:
    shared = [
        lid for lid, layer in template.layers().items() if layer.content_uri == (template.root / SHARED_LAYER_DIR)
    ]
    assert len(shared) == 1, f"expected one layer built from {SHARED_LAYER_DIR}/, found {shared}"
    assert_none(
        [
            f"{fn.logical_id}: Layers {fn.layers} do not include the shared layer {shared[0]}"
            for fn in functions(template)
            if {"Ref": shared[0]} not in fn.layers
        ]
    )


def test_every_function_has_its_own_log_group_with_retention(template: Template) -> None:
    log_groups = template.of_type("AWS::Logs::LogGroup")
    violations = []
    for fn in functions(template):
        name = f"{fn.logical_id}Logs"
        if name not in log_groups:
            violations.append(f"{fn.logical_id}: no AWS::Logs::LogGroup {name} (its logs would be kept forever)")
            continue
        props = template.properties(name)
        expected = {"Fn::Sub": f"/aws/lambda/${{{fn.logical_id}}}"}
        if props.get("LogGroupName") != expected:
            violations.append(
                f"{name}: LogGroupName is {props.get('LogGroupName')!r}, expected !Sub {expected['Fn::Sub']}"
            )
        retention = resolved(template, props.get("RetentionInDays"))
        if not isinstance(retention, int) or retention <= 0:
            violations.append(f"{name}: RetentionInDays is {retention!r}, expected a number of days")
    assert_none(violations)


# -- tables, queues -----------------------------------------------------------------------------------------------
def test_every_table_is_on_demand_with_point_in_time_recovery_and_protected_in_prod(template: Template) -> None:
    tables = template.of_type("AWS::DynamoDB::Table")
    violations = []
    for lid in tables:
        props = resolved(template, template.properties(lid))
        if props.get("BillingMode") != "PAY_PER_REQUEST":
            violations.append(f"{lid}: BillingMode is {props.get('BillingMode')!r}, not PAY_PER_REQUEST")
        pitr = (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
        if pitr is not True:
            violations.append(f"{lid}: PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled is {pitr!r}")
        protected = props.get("DeletionProtectionEnabled")
        if protected is not (resolved(template, {"Ref": "Stage"}) == "prod"):
            violations.append(f"{lid}: DeletionProtectionEnabled is {protected!r} (on in prod, off elsewhere)")
    assert_none(violations)


def dead_letter_queues(template: Template) -> set[str]:
    """Queues that some resource names as the place its failed messages go."""
    found: set[str] = set()
    for lid in template.resources:
        for key, value in walk(template.properties(lid)):
            if key in DEAD_LETTER_KEYS:
                found |= references(value)
    return found


def test_every_queue_is_a_dead_letter_queue_or_has_one(template: Template) -> None:
    dlqs = dead_letter_queues(template)
    violations = []
    for lid in template.of_type("AWS::SQS::Queue"):
        if lid in dlqs:
            continue
        policy = template.properties(lid).get("RedrivePolicy")
        if not policy:
            violations.append(f"{lid}: neither a dead-letter queue nor has a RedrivePolicy (poison messages loop)")
        elif not references(policy.get("deadLetterTargetArn")) or "maxReceiveCount" not in policy:
            violations.append(f"{lid}: RedrivePolicy needs deadLetterTargetArn (a queue here) and maxReceiveCount")
    assert_none(violations)


def follower_queues() -> dict[str, tuple[type[EventNotReady], int, bool]]:
    """The queues whose consumer can meet an event before the one it follows (:class:`EventNotReady`): its error,
    how long the service waits before it applies what it has (0: as long as the queue lets it), and whether what it
    follows comes on the same queue (then a crashed batch can hold it back for the queue's visibility timeout)."""
    from analytics.errors import EventNotReady as SaleNotReady
    from analytics.service import WAIT_FOR_ORDER_S, WAIT_FOR_PRODUCTS_S
    from crm.errors import EventNotReady as CrmNotReady
    from crm.service import ORDER_WAIT_S
    from notification.errors import RecipientNotReady
    from notification.service import CONTACT_WAIT_S
    from orders.errors import OrderNotReady

    return {
        "OrdersEventsQueue": (OrderNotReady, 0, True),  # a reservation or a payment before its OrderPlaced
        "CrmEventsQueue": (CrmNotReady, ORDER_WAIT_S, True),  # a payment before its OrderPlaced
        # a sale before its products, a refund before its sale
        "AnalyticsEventsQueue": (SaleNotReady, max(WAIT_FOR_PRODUCTS_S, WAIT_FOR_ORDER_S), True),
        "NotificationEventsQueue": (RecipientNotReady, CONTACT_WAIT_S, True),  # an order's message before its customer
        # a campaign's message before its customer's contact (which comes on the other queue)
        "NotificationCampaignQueue": (RecipientNotReady, CONTACT_WAIT_S, False),
    }


def test_an_event_that_came_early_is_not_parked_before_what_it_follows_can_come(template: Template) -> None:
    """What an event follows may be late by a crashed batch (back after the queue's visibility timeout) and by a
    backlog; a service that stops waiting must stop before the queue parks the event, or it never applies it."""
    violations = []
    for lid, (error, gives_up_after, same_queue) in follower_queues().items():
        props = template.properties(lid)
        receives = int(props["RedrivePolicy"]["maxReceiveCount"])
        span = not_ready_span_s(receives, error.max_backoff_s)
        if same_queue and span < int(props["VisibilityTimeout"]):
            violations.append(f"{lid}: an early event is parked after {span} s, before a crashed batch comes back")
        if span <= gives_up_after:
            violations.append(f"{lid}: an early event is parked after {span} s, its service waits {gives_up_after} s")
    assert_none(violations)


# -- event sources ------------------------------------------------------------------------------------------------
def test_every_sqs_event_source_reports_batch_item_failures(template: Template) -> None:
    assert_none(
        [
            f"{fn.logical_id}.{name}: FunctionResponseTypes lacks ReportBatchItemFailures (one bad message would "
            "retry the whole batch)"
            for fn, name, props in events(template, "SQS")
            if "ReportBatchItemFailures" not in (props.get("FunctionResponseTypes") or [])
        ]
    )


def test_every_stream_event_source_has_an_on_failure_destination(template: Template) -> None:
    violations = []
    for fn, name, props in events(template, *STREAM_EVENTS):
        destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        targets = references(destination)
        if not targets:
            violations.append(f"{fn.logical_id}.{name}: no DestinationConfig.OnFailure.Destination")
        elif not targets <= set(template.resources):
            violations.append(f"{fn.logical_id}.{name}: OnFailure.Destination names unknown {targets}")
        # Without a retry limit a poison record blocks its shard until it expires (24 h on a DynamoDB stream).
        retries = resolved(template, props.get("MaximumRetryAttempts"))
        if not isinstance(retries, int) or retries < 0:
            violations.append(f"{fn.logical_id}.{name}: MaximumRetryAttempts is {retries!r}, expected a limit")
    assert_none(violations)


# -- routes -------------------------------------------------------------------------------------------------------
def test_the_http_api_requires_a_cognito_jwt_by_default(template: Template) -> None:
    _, api = template.http_api()
    auth = api.get("Auth") or {}
    default = auth.get("DefaultAuthorizer")
    assert default, "the HttpApi has no DefaultAuthorizer: every route without one would be public"
    jwt = ((auth.get("Authorizers") or {}).get(default) or {}).get("JwtConfiguration") or {}
    assert "UserPool" in references(jwt.get("issuer")), f"{default} does not trust tokens from the UserPool"
    assert "UserPoolClient" in references(jwt.get("audience")), f"{default} does not check the UserPoolClient"


def route(props: dict[str, Any]) -> tuple[str, str]:
    return str(props.get("Method", "")).upper(), str(props.get("Path", ""))


def test_every_route_needs_a_token_unless_the_contract_makes_it_public(template: Template) -> None:
    api_id, api = template.http_api()
    default = (api.get("Auth") or {}).get("DefaultAuthorizer")
    violations = []
    for fn, name, props in events(template, "HttpApi"):
        where = f"{fn.logical_id}.{name} {' '.join(route(props))}"
        if props.get("ApiId") != {"Ref": api_id}:
            # Without ApiId SAM makes an implicit API with no authorizer at all.
            violations.append(f"{where}: ApiId is {props.get('ApiId')!r}, not !Ref {api_id}")
        authorizer = (props.get("Auth") or {}).get("Authorizer")
        if authorizer == "NONE":
            if route(props) not in PUBLIC_ROUTES:
                violations.append(f"{where}: Authorizer NONE on a route API.md does not make public")
        elif authorizer not in (None, default):
            violations.append(f"{where}: Authorizer {authorizer!r} instead of the default JWT authorizer {default}")
    assert_none(violations)


def test_public_routes_of_the_contract_need_no_token(template: Template) -> None:
    """Anonymous shoppers browse and sign up, and Stripe calls its webhook without a token."""
    assert_none(
        [
            f"{fn.logical_id}.{name} {' '.join(route(props))}: public in API.md but requires a token"
            for fn, name, props in events(template, "HttpApi")
            if route(props) in PUBLIC_ROUTES and (props.get("Auth") or {}).get("Authorizer") != "NONE"
        ]
    )


# -- deployments --------------------------------------------------------------------------------------------------
def _watched_functions(template: Template, alarm: str) -> list[str]:
    """The functions whose Errors an alarm sums; fails on a metric that is not scoped to one of this stack's
    functions (an AWS/Lambda metric without dimensions is the whole account's)."""
    props = template.properties(alarm)
    metrics = props.get("Metrics") or [{"MetricStat": {"Metric": props}}]
    watched = []
    for query in metrics:
        metric = (query.get("MetricStat") or {}).get("Metric")
        if metric is None:
            continue  # the expression that sums them
        dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions") or []}
        if metric.get("Namespace") == "AWS/Lambda":
            assert set(dimensions) == {"FunctionName"}, f"{alarm}: {metric} is not scoped to one function"
            name = dimensions["FunctionName"]
            # !Ref Fn, or !Sub ${Fn} (what a Fn::ForEach loop writes): either is the function's name.
            watched.append(name["Ref"] if "Ref" in name else name["Fn::Sub"].removeprefix("${").removesuffix("}"))
    return watched


def test_deployments_roll_back_on_errors_of_every_function_of_this_stack_and_no_other(template: Template) -> None:
    violations, watched = [], []
    for fn in functions(template):
        alarms = [a["Ref"] for a in (fn.properties.get("DeploymentPreference") or {}).get("Alarms") or []]
        if not alarms:
            violations.append(f"{fn.logical_id}: no DeploymentPreference alarms (a bad version would stay)")
        for alarm in alarms:
            watched += _watched_functions(template, alarm)
    everyone = {fn.logical_id for fn in functions(template)}
    violations += [f"{lid}: no deployment alarm watches its Errors" for lid in sorted(everyone - set(watched))]
    violations += [f"{lid}: watched, but not a function of this stack" for lid in sorted(set(watched) - everyone)]
    assert_none(violations)


def test_each_function_rolls_back_on_its_own_errors_alarm(template: Template) -> None:
    """Each function's deployment is guarded by the alarm on its own errors (the FunctionWatch loop makes one per
    function), so a new function left out of that loop fails here."""
    violations = []
    for fn in functions(template):
        alarms = [a["Ref"] for a in (fn.properties.get("DeploymentPreference") or {}).get("Alarms") or []]
        own = f"{fn.logical_id}Errors"
        if own not in alarms:
            violations.append(f"{fn.logical_id}: its DeploymentPreference does not name {own}")
        elif own not in template.resources or _watched_functions(template, own) != [fn.logical_id]:
            violations.append(f"{fn.logical_id}: {own} does not watch it alone")
    assert_none(violations)
