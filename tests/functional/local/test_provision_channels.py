"""Provisioning what the notification service declares: SES identity, configuration set and its SNS event
destination, a generated secret, the local push application, and the HTTP API's public URL resolving to the local
gateway; then a send from that identity gets SES's feedback on the topic, as it would on AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import boto3
import pytest
from moto import mock_aws

from gears.local.cloud import Mailbox, patch_channels, read_mailbox
from gears.local.provision import PUSH_PARAMETER, Stack, provision
from gears.local.template import Template, TemplateError

NOTIFICATION_SECTION = dedent(
    """
    Transform: AWS::Serverless-2016-10-31
    Parameters:
      Stage: {Type: String, Default: dev}
      SenderEmail: {Type: String, Default: shop@gears.example}
      PushPlatformApplicationArn: {Type: String, Default: ""}
    Conditions:
      PushEnabled: !Not [!Equals [!Ref PushPlatformApplicationArn, ""]]
    Resources:
      HttpApi:
        Type: AWS::Serverless::HttpApi
      FeedbackTopic:
        Type: AWS::SNS::Topic
      FeedbackQueue:
        Type: AWS::SQS::Queue
      FeedbackSubscription:
        Type: AWS::SNS::Subscription
        Properties:
          TopicArn: !Ref FeedbackTopic
          Protocol: sqs
          Endpoint: !GetAtt FeedbackQueue.Arn
          RawMessageDelivery: true
      EmailIdentity:
        Type: AWS::SES::EmailIdentity
        Properties:
          EmailIdentity: !Ref SenderEmail
      ConfigurationSet:
        Type: AWS::SES::ConfigurationSet
        Properties:
          Name: !Sub gears-${Stage}
      ConfigurationSetEventDestination:
        Type: AWS::SES::ConfigurationSetEventDestination
        Properties:
          ConfigurationSetName: !Ref ConfigurationSet
          EventDestination:
            Enabled: true
            MatchingEventTypes: [DELIVERY, BOUNCE, COMPLAINT, REJECT]
            SnsDestination:
              TopicARN: !Ref FeedbackTopic
      UnsubscribeSecret:
        Type: AWS::SecretsManager::Secret
        Properties:
          GenerateSecretString:
            PasswordLength: 48
            ExcludePunctuation: true
      JsonSecret:
        Type: AWS::SecretsManager::Secret
        Properties:
          Name: probe/json-secret
          GenerateSecretString:
            SecretStringTemplate: '{"user": "shop"}'
            GenerateStringKey: password
      PushOnlyQueue:
        Type: AWS::SQS::Queue
        Condition: PushEnabled
      Sender:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: fn/
          Handler: app.handler
          Runtime: python3.11
          Environment:
            Variables:
              PUBLIC_API_URL: !Sub https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}
              UNSUBSCRIBE_URL: !Sub https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/notifications/unsubscribe
              OTHER_URL: https://example.com/
              PUSH_APPLICATION_ARN: !Ref PushPlatformApplicationArn
              UNSUBSCRIBE_SECRET_ARN: !Ref UnsubscribeSecret
              SENDER_EMAIL: !Ref SenderEmail
              CONFIGURATION_SET: !Ref ConfigurationSet
    """
)


@pytest.fixture
def aws() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


@pytest.fixture
def template_path(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(NOTIFICATION_SECTION)
    return path


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "mailbox.jsonl"
    take_off = patch_channels(Mailbox(path))
    yield path
    take_off()


def test_the_http_api_url_in_a_function_environment_is_the_local_gateway(
    aws: boto3.Session, template_path: Path
) -> None:
    template = Template(template_path)
    stack = provision(template, aws, gateway_url="http://127.0.0.1:3456")
    env = stack.function_environment(template.functions()["Sender"])
    assert env["PUBLIC_API_URL"] == "http://127.0.0.1:3456"
    assert env["UNSUBSCRIBE_URL"] == "http://127.0.0.1:3456/notifications/unsubscribe"
    assert env["OTHER_URL"] == "https://example.com/"
    assert stack.lookup("HttpApi", "ApiEndpoint") == "http://127.0.0.1:3456"


def test_push_gets_a_local_platform_application_unless_one_is_given(aws: boto3.Session, template_path: Path) -> None:
    template = Template(template_path)
    stack = provision(template, aws)
    arn = stack.function_environment(template.functions()["Sender"])["PUSH_APPLICATION_ARN"]
    sns = aws.client("sns")
    assert arn in [a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]]
    assert ":app/GCM/" in arn
    assert "PushOnlyQueue" in stack.attrs  # the template's push condition holds with the local application
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=arn, Token="device-token-1")["EndpointArn"]
    assert endpoint.startswith(arn.replace(":app/", ":endpoint/"))

    again = provision(Template(template_path), aws)
    assert again.template.parameters[PUSH_PARAMETER] == arn  # found again, not a second application
    assert len(sns.list_platform_applications()["PlatformApplications"]) == 1

    given = "arn:aws:sns:us-east-1:123456789012:app/APNS/real-app"
    chosen = Template(template_path, {PUSH_PARAMETER: given})
    chosen_stack = provision(chosen, aws)
    assert chosen_stack.function_environment(chosen.functions()["Sender"])["PUSH_APPLICATION_ARN"] == given
    assert len(sns.list_platform_applications()["PlatformApplications"]) == 1


def test_a_stack_rebuilt_from_a_running_shops_state_resolves_the_same(aws: boto3.Session, template_path: Path) -> None:
    template = Template(template_path)
    stack = provision(template, aws, gateway_url="http://127.0.0.1:3999")
    state = json.loads(json.dumps(stack.attrs))  # as runtime.json keeps it
    rebuilt = Template(template_path)
    env = Stack(rebuilt, state).function_environment(rebuilt.functions()["Sender"])
    assert env == stack.function_environment(template.functions()["Sender"])
    assert env["PUBLIC_API_URL"] == "http://127.0.0.1:3999"
    assert env["PUSH_APPLICATION_ARN"].startswith("arn:aws:sns:")


def test_a_generated_secret_is_random_its_ref_the_arn_and_it_survives_provisioning_again(
    aws: boto3.Session, template_path: Path
) -> None:
    sm = aws.client("secretsmanager")
    first = provision(Template(template_path), aws)
    arn = first.ref("UnsubscribeSecret")
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:")
    value = sm.get_secret_value(SecretId=arn)["SecretString"]
    assert len(value) == 48
    assert value.isalnum()
    second = provision(Template(template_path), aws)
    assert second.ref("UnsubscribeSecret") == arn
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == value

    document = json.loads(sm.get_secret_value(SecretId=first.ref("JsonSecret"))["SecretString"])
    assert document["user"] == "shop"
    assert len(document["password"]) == 32  # CloudFormation's default length


def test_mail_from_the_identity_with_the_configuration_set_gets_ses_feedback(
    aws: boto3.Session, template_path: Path, mailbox: Path
) -> None:
    template = Template(template_path)
    stack = provision(template, aws)
    env = stack.function_environment(template.functions()["Sender"])
    assert env["CONFIGURATION_SET"] == "gears-dev"
    sesv2, sqs = aws.client("sesv2"), aws.client("sqs")
    answer = sesv2.send_email(
        FromEmailAddress=env["SENDER_EMAIL"],
        Destination={"ToAddresses": ["bounce@simulator.amazonses.com"]},
        Content={"Simple": {"Subject": {"Data": "Your order"}, "Body": {"Text": {"Data": "On its way"}}}},
        EmailTags=[{"Name": "notificationId", "Value": "n-provisioned"}],
        ConfigurationSetName=env["CONFIGURATION_SET"],
    )
    [letter] = read_mailbox(mailbox, "bounce@simulator.amazonses.com")
    assert letter["messageId"] == answer["MessageId"]
    got = sqs.receive_message(QueueUrl=stack.ref("FeedbackQueue"), MaxNumberOfMessages=10)["Messages"]
    events = [json.loads(m["Body"]) for m in got]
    assert [e["eventType"] for e in events] == ["Bounce"]  # Send is not among the destination's types
    assert events[0]["bounce"]["bounceType"] == "Permanent"
    assert events[0]["mail"]["messageId"] == answer["MessageId"]
    assert events[0]["mail"]["tags"]["notificationId"] == ["n-provisioned"]


def test_an_unknown_event_type_is_a_template_error(aws: boto3.Session, tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(NOTIFICATION_SECTION.replace("DELIVERY, BOUNCE", "DELIVERY, BOUNCED"))
    with pytest.raises(TemplateError, match="BOUNCED"):
        provision(Template(path), aws)
