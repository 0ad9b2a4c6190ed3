"""Reading SAM templates: tags, Globals, conditions, intrinsics, dependency order."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from gears.local.provision import _order
from gears.local.template import Template, TemplateError, references

SAMPLE = dedent(
    """
    Transform: AWS::Serverless-2016-10-31
    Parameters:
      Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
    Conditions:
      IsProd: !Equals [!Ref Stage, prod]
    Globals:
      Function:
        Runtime: python3.11
        Timeout: 7
        Layers: [!Ref Layer]
        Environment:
          Variables:
            STAGE: !Ref Stage
    Resources:
      Layer:
        Type: AWS::Serverless::LayerVersion
        Properties: {ContentUri: shared/}
      Table:
        Type: AWS::DynamoDB::Table
        Properties: {}
      Queue:
        Type: AWS::SQS::Queue
        Properties:
          RedrivePolicy:
            deadLetterTargetArn: !GetAtt Dlq.Arn
            maxReceiveCount: 3
      Dlq:
        Type: AWS::SQS::Queue
      ProdOnly:
        Type: AWS::SNS::Topic
        Condition: IsProd
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: functions/x/
          Handler: x.api.handler
          Timeout: 20
          Environment:
            Variables:
              TABLE: !Ref Table
              URL: !Sub "https://${Table}.example/${AWS::Region}/${!Literal}"
              MODE: !If [IsProd, strict, relaxed]
              JOINED: !Join ["-", [a, !Select [1, [x, y]]]]
          Events:
            Q:
              Type: SQS
              Properties: {Queue: !GetAtt Queue.Arn, BatchSize: 5}
    """
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "template.yaml"
    p.write_text(SAMPLE)
    return p


def lookup(lid: str, attr: str | None) -> str:
    return f"{lid}:{attr or 'Ref'}"


def test_globals_merge_maps_add_lists_and_let_resources_override(path: Path) -> None:
    fn = Template(path).functions()["Fn"]
    assert fn.timeout == 20
    assert fn.runtime == "python3.11"
    assert fn.layers == [{"Ref": "Layer"}]
    assert set(fn.environment) == {"STAGE", "TABLE", "URL", "MODE", "JOINED"}
    assert fn.code_uri == (path.parent / "functions/x").resolve()
    assert [e.type for e in fn.events] == ["SQS"]


def test_intrinsics_resolve(path: Path) -> None:
    t = Template(path)
    env = t.resolve(t.functions()["Fn"].environment, lookup)
    assert env == {
        "STAGE": "dev",
        "TABLE": "Table:Ref",
        "URL": "https://Table:Ref.example/us-east-1/${Literal}",
        "MODE": "relaxed",
        "JOINED": "a-y",
    }


def test_parameters_and_conditions(path: Path) -> None:
    assert "ProdOnly" not in Template(path).of_type("AWS::SNS::Topic")
    prod = Template(path, {"Stage": "prod"})
    assert "ProdOnly" in prod.of_type("AWS::SNS::Topic")
    assert prod.resolve(prod.functions()["Fn"].environment["MODE"], lookup) == "strict"
    with pytest.raises(TemplateError):
        Template(path, {"Stage": "qa"})


def test_resources_are_ordered_after_what_they_refer_to(path: Path) -> None:
    t = Template(path)
    order = _order(t, [lid for lid in t.resources if t.included(lid)])
    assert order.index("Dlq") < order.index("Queue")
    assert order.index("Table") < order.index("Fn")
    assert order.index("Layer") < order.index("Fn")
    assert references({"Fn::Sub": "${A.Arn}/${B}/${AWS::Region}"}) == {"A", "B"}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_shops_template_orders_though_its_deployment_alarms_watch_its_functions(stage: str) -> None:
    """SAM turns DeploymentPreference into CodeDeploy resources that come after the function, so alarms that watch
    a function and guard its deployments are no cycle; the local runtime must order them the same way."""
    from tests.conftest import TEMPLATE

    t = Template(TEMPLATE, {"Stage": stage})
    order = _order(t, [lid for lid in t.resources if t.included(lid)])
    assert order.index("OrdersReadFunction") < order.index("OrdersReadFunctionErrors")


def test_for_each_loops_expand_as_the_language_extensions_transform_does() -> None:
    from gears.local.template import expand_for_each

    section = {
        "Plain": {"Type": "AWS::SNS::Topic"},
        "Fn::ForEach::Watch": [
            "Fn",
            ["OrdersFunction", "CartFunction"],
            {
                "${Fn}Logs": {
                    "Type": "AWS::Logs::LogGroup",
                    "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${${Fn}}"}},
                },
                "${Fn}Errors": {
                    "Type": "AWS::CloudWatch::Alarm",
                    "Properties": {
                        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "${Fn}"}}],
                        "AlarmDescription": {"Ref": "Fn"},
                    },
                },
            },
        ],
    }
    out = expand_for_each(section)
    assert list(out) == [
        "Plain",
        "OrdersFunctionLogs",
        "OrdersFunctionErrors",
        "CartFunctionLogs",
        "CartFunctionErrors",
    ]
    assert out["CartFunctionLogs"]["Properties"]["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${CartFunction}"}
    props = out["OrdersFunctionErrors"]["Properties"]
    assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "OrdersFunction"}}]
    assert props["AlarmDescription"] == "OrdersFunction"


def test_a_for_each_loop_that_would_overwrite_a_resource_is_an_error() -> None:
    from gears.local.template import TemplateError, expand_for_each

    with pytest.raises(TemplateError):
        expand_for_each({"ALogs": {}, "Fn::ForEach::L": ["X", ["A"], {"${X}Logs": {}}]})
