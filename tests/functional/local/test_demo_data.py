"""The local runtime finds each service's demo-data loader in the template (its ``Custom::DemoData`` resources),
in the order CloudFormation would run them, and invokes it through the function's own worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from gears.local.provision import provision
from gears.local.runtime import LocalRuntime, Options, demo_data_loaders
from gears.local.template import Template, TemplateError
from tests.conftest import ROOT, TEMPLATE

FIXTURE = Path(__file__).parent / "fixture"


@pytest.fixture
def aws() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def test_the_project_loads_inventory_s_stock_before_the_catalog_and_the_order_history_after_it(
    aws: boto3.Session,
) -> None:
    expected = [
        ("InventoryDemoData", "InventoryDemoDataFunction"),
        ("CatalogDemoData", "CatalogDemoDataFunction"),
        ("OrdersDemoHistory", "OrdersDemoHistoryFunction"),
    ]
    for parameters in ({}, {"DemoData": "true"}):
        template = Template(TEMPLATE, parameters)
        stack = provision(template, aws)
        assert demo_data_loaders(template, stack) == expected
        # On AWS the custom resources exist only with DemoData=true; locally they are passive either way.
        assert ("CatalogDemoData" in stack.attrs) is bool(parameters)


def small_template(tmp_path: Path, resources: str) -> Template:
    path = tmp_path / "template.yaml"
    path.write_text(
        f"""Transform: AWS::Serverless-2016-10-31
Conditions:
  Never: !Equals ["a", "b"]
Resources:
  Layer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: {ROOT / "shared"}
  Queue:
    Type: AWS::SQS::Queue
  Probe:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {FIXTURE / "fn"}
      Handler: probe.handler.handle
      Runtime: python3.11
      Layers: [!Ref Layer]
{resources}"""
    )
    return Template(path)


LOADERS = """  Later:
    Type: Custom::DemoData
    DependsOn: [Sooner]
    Properties:
      ServiceToken: !GetAtt Probe.Arn
  Sooner:
    Type: Custom::DemoData
    Condition: Never
    Properties:
      ServiceToken: !GetAtt Probe.Arn
"""


def test_a_loader_runs_after_those_it_depends_on_and_its_condition_is_not_asked(
    aws: boto3.Session, tmp_path: Path
) -> None:
    template = small_template(tmp_path, LOADERS)
    runtime = LocalRuntime(Options(template=template.path, state_dir=tmp_path / "state", quiet=True))
    runtime.template, runtime.stack = template, provision(template, aws)
    runtime._build_pools()
    try:
        assert demo_data_loaders(template, runtime.stack) == [("Sooner", "Probe"), ("Later", "Probe")]
        said = runtime.seed()  # the probe answers no summary: its whole answer is said
    finally:
        runtime.stop()
    assert said.startswith('Sooner: {"pid": ')
    assert '; Later: {"pid": ' in said
    assert runtime.pools["Probe"].invocations == 2


@pytest.mark.parametrize(
    ("resources", "error"),
    [
        (
            "  Loader:\n    Type: Custom::DemoData\n    Properties:\n      ServiceToken: !GetAtt Queue.Arn\n",
            "not a function",
        ),
        # Sooner's condition keeps it out of provisioning (which would refuse the cycle first), not out of the loaders
        (LOADERS.replace("    Condition: Never\n", "    Condition: Never\n    DependsOn: Later\n"), "circular"),
    ],
)
def test_a_loader_must_be_a_function_and_the_order_a_real_one(
    aws: boto3.Session, tmp_path: Path, resources: str, error: str
) -> None:
    template = small_template(tmp_path, resources)
    stack = provision(template, aws)
    with pytest.raises(TemplateError, match=error):
        demo_data_loaders(template, stack)


def test_depends_on_is_one_name_or_a_list() -> None:
    from gears.local.provision import depends_on

    assert (depends_on({"DependsOn": "A"}), depends_on({"DependsOn": ["A", "B"]}), depends_on({})) == (
        ["A"],
        ["A", "B"],
        [],
    )
