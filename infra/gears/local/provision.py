"""Provisioning what ``template.yaml`` declares on an AWS-compatible endpoint (embedded moto, LocalStack, ...).

moto's own CloudFormation skips SNS subscriptions, Cognito and API Gateway v2, and would not let us name things
the way a developer can find them, so resources are made here, one boto3 call each, in dependency order. The
result is a :class:`Stack`: what each logical id became (its ``Ref`` and ``GetAtt`` values), and so the resolved
environment of every function.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from gears.local.template import Function, Template, TemplateError, references

Progress = Callable[[str], None]

# Resource types that exist only on AWS (permissions, logs, alarms, deployment): the local runtime notes their
# names so intrinsics resolve, and creates nothing.
PASSIVE = {
    "AWS::Logs::LogGroup",
    "AWS::CloudWatch::Alarm",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::Lambda::Permission",
    "AWS::KMS::Key",
    "AWS::S3::BucketPolicy",
    "AWS::CloudFront::ResponseHeadersPolicy",
}


# The gateway's address when the caller names none (``gears local``'s default host and port).
DEFAULT_GATEWAY_URL = "http://127.0.0.1:3000"
# The parameter naming the SNS platform application that push messages go through (FCM/APNs credentials are made
# outside CloudFormation): locally a GCM application on the endpoint, unless a value is given.
PUSH_PARAMETER = "PushPlatformApplicationArn"
# Where a stack keeps parameter values it chose itself (the local push application), so that a stack rebuilt from a
# running shop's state (``gears invoke``, ``gears seed``) resolves them the same. Not a logical id: ids are
# alphanumeric.
LOCAL_PARAMETERS = "::LocalParameters"
HTTP_API_TYPES = ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api")


def set_parameter(template: Template, name: str, value: Any) -> None:
    """Give a template parameter a value after the template was read (its conditions are evaluated again)."""
    template.parameters[name] = value
    template.conditions.clear()
    for condition in template.doc.get("Conditions") or {}:
        template._condition(condition)


@dataclass
class Stack:
    """What the template's logical ids became on the endpoint."""

    template: Template
    attrs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, value in (self.attrs.get(LOCAL_PARAMETERS) or {}).items():
            if name in self.template.parameters and not self.template.parameters[name]:
                set_parameter(self.template, name, value)

    def lookup(self, logical_id: str, attribute: str | None) -> Any:
        if logical_id not in self.attrs:
            raise TemplateError(f"{logical_id} is referred to before it exists")
        values = self.attrs[logical_id]
        key = attribute or "Ref"
        if key not in values:
            raise TemplateError(f"{logical_id} has no attribute {key} locally")
        return values[key]

    def ref(self, logical_id: str) -> Any:
        return self.lookup(logical_id, None)

    def resolve(self, value: Any) -> Any:
        return self.template.resolve(value, self.lookup)

    def function_environment(self, function: Function) -> dict[str, str]:
        """A function's environment variables, resolved; an HTTP API's public URL in them (``!Sub
        https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/...``) is the local gateway's."""
        env = self.resolve(function.environment)
        return {k: self.local_url(_env_str(v)) for k, v in env.items()}

    def local_url(self, value: str) -> str:
        """``value`` with an HTTP API's public execute-api address (as the template spells it, from the API's
        ``Ref``), or the storefront distribution's, at its start replaced by the local gateway's (the API's
        ``ApiEndpoint`` here), which serves both."""
        suffix = self.template.pseudo("AWS::URLSuffix")
        gateways = [(self.attrs.get(lid) or {}).get("ApiEndpoint") for lid in self.template.of_type(*HTTP_API_TYPES)]
        gateway = next((str(g).rstrip("/") for g in gateways if g), None)
        for lid in self.template.of_type("AWS::CloudFront::Distribution"):  # the gateway serves the storefront
            site = f"https://{(self.attrs.get(lid) or {}).get('DomainName')}"
            if gateway and (value == site or value.startswith(site + "/")):
                return gateway + value[len(site) :]
        for lid in self.template.of_type(*HTTP_API_TYPES):
            api = self.attrs.get(lid) or {}
            if not api.get("ApiEndpoint"):
                continue
            public = f"https://{api['Ref']}.execute-api.{self.template.region}.{suffix}"
            if value == public or value.startswith(public + "/"):
                return str(api["ApiEndpoint"]).rstrip("/") + value[len(public) :]
        return value

    def by_arn(self, arn: str) -> str | None:
        """The logical id whose ARN (or stream ARN) is ``arn``."""
        for lid, values in self.attrs.items():
            if arn in (values.get("Arn"), values.get("StreamArn")):
                return lid
        return None


def _env_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _provisioned_properties(template: Template, lid: str) -> dict[str, Any]:
    """What a resource's creation depends on. A function's ``DeploymentPreference`` is not: SAM turns it into
    CodeDeploy resources that come after the function (its alarms may watch the function itself)."""
    props = template.properties(lid)
    if template.resources[lid].get("Type") == "AWS::Serverless::Function":
        return {k: v for k, v in props.items() if k != "DeploymentPreference"}
    return props


def depends_on(resource: dict[str, Any]) -> list[str]:
    """The logical ids a resource's ``DependsOn`` names (one name, or a list of them)."""
    value = resource.get("DependsOn") or []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _order(template: Template, logical_ids: list[str]) -> list[str]:
    """Logical ids sorted so that each comes after everything it refers to."""
    pending = {lid: references(_provisioned_properties(template, lid)) & set(logical_ids) for lid in logical_ids}
    for lid in logical_ids:
        pending[lid] |= set(depends_on(template.resources[lid])) & set(logical_ids)
    ordered: list[str] = []
    while pending:
        ready = sorted(lid for lid, deps in pending.items() if not deps - set(ordered))
        if not ready:
            raise TemplateError(f"circular references among {sorted(pending)}")
        for lid in ready:
            ordered.append(lid)
            del pending[lid]
    return ordered


class Provisioner:
    def __init__(
        self,
        template: Template,
        session: Any,
        endpoint_url: str | None,
        progress: Progress | None = None,
        gateway_url: str | None = None,
    ) -> None:
        self.template = template
        self.gateway_url = gateway_url or DEFAULT_GATEWAY_URL
        self.stack = Stack(template)
        self.progress = progress or (lambda _msg: None)
        region = template.region
        self.region = region
        self.account = template.account_id

        def client(name: str) -> Any:
            return session.client(name, region_name=region, endpoint_url=endpoint_url)

        self.client = client
        self._clients: dict[str, Any] = {}

    def _c(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = self.client(name)
        return self._clients[name]

    def name_for(self, logical_id: str) -> str:
        return f"{self.template.stack_name}-{logical_id}"

    def run(self, only: set[str] | None = None) -> Stack:
        self._local_parameters()
        ids = [lid for lid in self.template.resources if self.template.included(lid) and (only is None or lid in only)]
        counts: dict[str, int] = {}
        for lid in _order(self.template, ids):
            kind = self.template.resources[lid]["Type"]
            handler = getattr(self, "_" + kind.replace("::", "_"), None)
            props = self.stack.resolve(_provisioned_properties(self.template, lid))
            self.stack.attrs[lid] = handler(lid, props) if handler else self._passive(lid, kind)
            counts[kind] = counts.get(kind, 0) + 1
        for kind, n in sorted(counts.items()):
            # Custom resources are CloudFormation calling a function: nothing to make here (the runtime invokes the
            # demo-data ones itself, at start-up).
            if kind not in PASSIVE and not kind.startswith("Custom::"):
                self.progress(f"{n:>3} x {kind}")
        return self.stack

    def _local_parameters(self) -> None:
        """Parameters whose value is made on the endpoint when none is given: the push platform application."""
        if PUSH_PARAMETER in self.template.parameters and not self.template.parameters[PUSH_PARAMETER]:
            arn = self._push_application()
            set_parameter(self.template, PUSH_PARAMETER, arn)
            self.stack.attrs.setdefault(LOCAL_PARAMETERS, {})[PUSH_PARAMETER] = arn
            self.progress(f"  1 x SNS platform application (GCM, local): {PUSH_PARAMETER}")

    def _push_application(self) -> str:
        """A GCM (FCM) platform application on the endpoint, found again if it is there: devices register
        endpoints under it and push messages are published to those (the local cloud puts them in the mailbox)."""
        sns = self._c("sns")
        name = f"{self.template.stack_name}-push"
        token: str | None = None
        while True:
            page = sns.list_platform_applications(**({"NextToken": token} if token else {}))
            for app in page.get("PlatformApplications") or []:
                if app["PlatformApplicationArn"].endswith(f":app/GCM/{name}"):
                    return str(app["PlatformApplicationArn"])
            token = page.get("NextToken")
            if not token:
                break
        return str(
            sns.create_platform_application(
                Name=name, Platform="GCM", Attributes={"PlatformCredential": "local-fcm-server-key"}
            )["PlatformApplicationArn"]
        )

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def _passive(self, lid: str, kind: str) -> dict[str, Any]:
        name = self.name_for(lid)
        service = kind.split("::")[1].lower()
        return {"Ref": name, "Arn": self._arn(service, name)}

    # -- serverless ---------------------------------------------------------------------------------------------
    def _AWS_Serverless_Function(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        name = props.get("FunctionName") or lid
        arn = self._arn("lambda", f"function:{name}")
        return {"Ref": name, "Arn": arn, "Alias": f"{arn}:live"}

    def _AWS_Serverless_LayerVersion(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        name = props.get("LayerName") or lid
        return {"Ref": self._arn("lambda", f"layer:{name}:1")}

    def _AWS_Serverless_HttpApi(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        # Ref is the API's id ("local"); the public URL the template builds from it becomes the gateway's in the
        # functions' environment (Stack.local_url).
        return {"Ref": "local", "ApiId": "local", "ApiEndpoint": self.gateway_url}

    # -- the storefront's distribution: locally the gateway serves web/dist itself ----------------------------
    def _AWS_CloudFront_Distribution(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        name = self.name_for(lid)
        return {"Ref": name, "Id": name, "DomainName": f"{name.lower()}.cloudfront.local"}

    def _AWS_CloudFront_OriginAccessControl(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        return {"Ref": self.name_for(lid), "Id": self.name_for(lid)}

    # -- DynamoDB -----------------------------------------------------------------------------------------------
    def _AWS_DynamoDB_Table(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:  # noqa: C901 - one optional table property per branch
        ddb = self._c("dynamodb")
        name = props.get("TableName") or self.name_for(lid)
        args: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if args["BillingMode"] == "PROVISIONED":
            args["ProvisionedThroughput"] = props.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(key):
                args[key] = props[key]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        try:
            desc = ddb.create_table(**args)["TableDescription"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
            desc = ddb.describe_table(TableName=name)["Table"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            try:
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
            except ClientError as exc:  # already on, when the endpoint kept the table
                if exc.response["Error"]["Code"] != "ValidationException":
                    raise
        out = {"Ref": name, "Arn": desc["TableArn"]}
        if desc.get("LatestStreamArn"):
            out["StreamArn"] = desc["LatestStreamArn"]
        return out

    # -- SNS and SQS --------------------------------------------------------------------------------------------
    def _AWS_SNS_Topic(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        sns = self._c("sns")
        name = props.get("TopicName") or self.name_for(lid) + (".fifo" if props.get("FifoTopic") else "")
        attributes = {}
        if props.get("FifoTopic"):
            attributes["FifoTopic"] = "true"
            if props.get("ContentBasedDeduplication"):
                attributes["ContentBasedDeduplication"] = "true"
        arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        for sub in props.get("Subscription") or []:
            sns.subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])
        return {"Ref": arn, "TopicArn": arn, "TopicName": name}

    def _AWS_SQS_Queue(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        sqs = self._c("sqs")
        fifo = bool(props.get("FifoQueue"))
        name = props.get("QueueName") or self.name_for(lid) + (".fifo" if fifo else "")
        attributes: dict[str, str] = {}
        for key in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
            "MaximumMessageSize",
        ):
            if key in props:
                attributes[key] = str(props[key])
        if fifo:
            attributes["FifoQueue"] = "true"
            if props.get("ContentBasedDeduplication"):
                attributes["ContentBasedDeduplication"] = "true"
        if props.get("RedrivePolicy"):
            policy = props["RedrivePolicy"]
            attributes["RedrivePolicy"] = policy if isinstance(policy, str) else json.dumps(policy)
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self._arn("sqs", name)
        return {"Ref": url, "QueueUrl": url, "Arn": arn, "QueueName": name}

    def _AWS_SNS_Subscription(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        sns = self._c("sns")
        attributes: dict[str, str] = {}
        for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
            if key in props:
                value = props[key]
                attributes[key] = value if isinstance(value, str) else json.dumps(value)
        if "FilterPolicyScope" in props:
            attributes["FilterPolicyScope"] = props["FilterPolicyScope"]
        if props.get("RawMessageDelivery"):
            attributes["RawMessageDelivery"] = "true"
        arn = sns.subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return {"Ref": arn}

    # -- Cognito ------------------------------------------------------------------------------------------------
    _POOL_KEYS = (
        "Policies",
        "AutoVerifiedAttributes",
        "AliasAttributes",
        "UsernameAttributes",
        "UsernameConfiguration",
        "Schema",
        "AccountRecoverySetting",
        "VerificationMessageTemplate",
        "AdminCreateUserConfig",
        "MfaConfiguration",
        "DeletionProtection",
        "EmailConfiguration",
        "UserPoolAddOns",
    )

    def _AWS_Cognito_UserPool(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        idp = self._c("cognito-idp")
        name = props.get("UserPoolName") or self.name_for(lid)
        existing = [p for p in idp.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == name]
        if existing:
            pool_id = existing[0]["Id"]
        else:
            args = {k: props[k] for k in self._POOL_KEYS if k in props}
            pool_id = idp.create_user_pool(PoolName=name, **args)["UserPool"]["Id"]
        provider = f"cognito-idp.{self.region}.amazonaws.com/{pool_id}"
        return {
            "Ref": pool_id,
            "UserPoolId": pool_id,
            "Arn": self._arn("cognito-idp", f"userpool/{pool_id}"),
            "ProviderName": provider,
            "ProviderURL": f"https://{provider}",
        }

    _CLIENT_KEYS = (
        "GenerateSecret",
        "ExplicitAuthFlows",
        "PreventUserExistenceErrors",
        "EnableTokenRevocation",
        "AccessTokenValidity",
        "IdTokenValidity",
        "RefreshTokenValidity",
        "TokenValidityUnits",
        "ReadAttributes",
        "WriteAttributes",
        "SupportedIdentityProviders",
        "CallbackURLs",
        "LogoutURLs",
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "AllowedOAuthFlowsUserPoolClient",
    )

    def _AWS_Cognito_UserPoolClient(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        idp = self._c("cognito-idp")
        pool_id = props["UserPoolId"]
        name = props.get("ClientName") or self.name_for(lid)
        existing = [
            c
            for c in idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
            if c["ClientName"] == name
        ]
        if existing:
            client_id = existing[0]["ClientId"]
        else:
            args = {k: props[k] for k in self._CLIENT_KEYS if k in props}
            client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName=name, **args)["UserPoolClient"][
                "ClientId"
            ]
        return {"Ref": client_id, "ClientId": client_id}

    def _AWS_Cognito_UserPoolGroup(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        idp = self._c("cognito-idp")
        args = {k: props[k] for k in ("Description", "Precedence", "RoleArn") if k in props}
        try:
            idp.create_group(GroupName=props["GroupName"], UserPoolId=props["UserPoolId"], **args)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "GroupExistsException":
                raise
        return {"Ref": props["GroupName"]}

    # -- SES ----------------------------------------------------------------------------------------------------
    def _AWS_SES_EmailIdentity(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        """A sending identity, verified at once (the endpoint's SES sends from it; on AWS the address or domain
        must be confirmed first)."""
        identity = str(props["EmailIdentity"])
        args: dict[str, Any] = {"EmailIdentity": identity}
        configuration_set = (props.get("ConfigurationSetAttributes") or {}).get("ConfigurationSetName")
        if configuration_set:
            args["ConfigurationSetName"] = configuration_set
        try:
            self._c("sesv2").create_email_identity(**args)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "AlreadyExistsException":
                raise
        domain = identity.rpartition("@")[2]
        out: dict[str, Any] = {"Ref": identity}
        for i in (1, 2, 3):
            out[f"DkimDNSTokenName{i}"] = f"local{i}._domainkey.{domain}"
            out[f"DkimDNSTokenValue{i}"] = f"local{i}.dkim.amazonses.com"
        return out

    def _AWS_SES_ConfigurationSet(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        name = str(props.get("Name") or self.name_for(lid))
        try:
            self._c("ses").create_configuration_set(ConfigurationSet={"Name": name})
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("ConfigurationSetAlreadyExists", "AlreadyExistsException"):
                raise
        return {"Ref": name}

    # CloudFormation's MatchingEventTypes (as its reference lists them, in any case) as SES's API names them.
    _SES_EVENT_TYPES = {
        t.lower(): t
        for t in (
            "send",
            "reject",
            "bounce",
            "complaint",
            "delivery",
            "open",
            "click",
            "renderingFailure",
            "deliveryDelay",
            "subscription",
        )
    }

    def _AWS_SES_ConfigurationSetEventDestination(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        """An event destination of a configuration set. Only an SNS destination has a local effect: the local cloud
        publishes SES's events there (gears.local.cloud); others are noted and left."""
        spec = props.get("EventDestination") or {}
        name = str(spec.get("Name") or self.name_for(lid))
        sns = spec.get("SnsDestination") or {}
        if not sns.get("TopicARN"):
            self.progress(f"{lid}: only an SnsDestination has a local effect; nothing made")
            return {"Ref": name, "Id": name}
        types = []
        for given in spec.get("MatchingEventTypes") or []:
            key = str(given).lower().replace("_", "")
            if key not in self._SES_EVENT_TYPES:
                raise TemplateError(f"{lid}: unknown MatchingEventTypes value {given!r}")
            types.append(self._SES_EVENT_TYPES[key])
        destination = {
            "Name": name,
            # CloudFormation's (and SES's) default is false: a destination publishes only once enabled
            "Enabled": spec.get("Enabled") in (True, "true", "True"),
            "MatchingEventTypes": types,
            "SNSDestination": {"TopicARN": sns["TopicARN"]},
        }
        try:
            self._c("ses").create_configuration_set_event_destination(
                ConfigurationSetName=props["ConfigurationSetName"], EventDestination=destination
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("EventDestinationAlreadyExists", "AlreadyExistsException"):
                raise
        return {"Ref": name, "Id": name}

    # -- Secrets Manager ----------------------------------------------------------------------------------------
    _PASSWORD_KEYS = (
        "PasswordLength",
        "ExcludeCharacters",
        "ExcludeNumbers",
        "ExcludePunctuation",
        "ExcludeUppercase",
        "ExcludeLowercase",
        "IncludeSpace",
        "RequireEachIncludedType",
    )

    def _AWS_SecretsManager_Secret(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        """A secret, ``Ref`` its ARN as CloudFormation answers. ``GenerateSecretString`` makes a random value (a JSON
        object with it under ``GenerateStringKey`` when a ``SecretStringTemplate`` is given), as CloudFormation does;
        a secret already there keeps its value (provisioning again does not rotate it)."""
        sm = self._c("secretsmanager")
        name = str(props.get("Name") or self.name_for(lid))
        try:
            arn = sm.describe_secret(SecretId=name)["ARN"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            args: dict[str, Any] = {"Name": name}
            if props.get("Description"):
                args["Description"] = props["Description"]
            if props.get("Tags"):
                args["Tags"] = props["Tags"]
            value = self._secret_value(props)
            if value is not None:
                args["SecretString"] = value
            arn = sm.create_secret(**args)["ARN"]
        return {"Ref": arn, "Id": arn}

    def _secret_value(self, props: dict[str, Any]) -> str | None:
        if "SecretString" in props:
            return str(props["SecretString"])
        spec = props.get("GenerateSecretString")
        if spec is None:
            return None
        options = {k: spec[k] for k in self._PASSWORD_KEYS if k in spec}
        if "PasswordLength" in options:
            options["PasswordLength"] = int(options["PasswordLength"])
        password = str(self._c("secretsmanager").get_random_password(**options)["RandomPassword"])
        if spec.get("SecretStringTemplate") and spec.get("GenerateStringKey"):
            document = json.loads(spec["SecretStringTemplate"])
            document[spec["GenerateStringKey"]] = password
            return json.dumps(document)
        return password

    # -- others -------------------------------------------------------------------------------------------------
    def _AWS_SSM_Parameter(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        name = props.get("Name") or f"/{self.template.stack_name}/{lid}"
        self._c("ssm").put_parameter(
            Name=name, Value=str(props["Value"]), Type=props.get("Type", "String"), Overwrite=True
        )
        return {"Ref": name, "Type": props.get("Type", "String"), "Value": props["Value"]}

    def _AWS_S3_Bucket(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        name = (props.get("BucketName") or self.name_for(lid)).lower()
        s3 = self._c("s3")
        try:
            s3.create_bucket(Bucket=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        return {
            "Ref": name,
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
        }

    def _AWS_Events_EventBus(self, lid: str, props: dict[str, Any]) -> dict[str, Any]:
        name = props.get("Name") or self.name_for(lid)
        events = self._c("events")
        try:
            arn = events.create_event_bus(Name=name)["EventBusArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
            arn = events.describe_event_bus(Name=name)["Arn"]
        return {"Ref": name, "Name": name, "Arn": arn}


def provision(
    template: Template,
    session: Any,
    endpoint_url: str | None = None,
    progress: Progress | None = None,
    only: set[str] | None = None,
    gateway_url: str | None = None,
) -> Stack:
    """Create (or find) every resource the template declares and return what they became. ``gateway_url`` is the
    local API gateway's address (default :data:`DEFAULT_GATEWAY_URL`): an HTTP API's URL resolves to it."""
    return Provisioner(template, session, endpoint_url, progress, gateway_url).run(only)
