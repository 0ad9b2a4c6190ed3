"""The catalog's demo data loader (``CatalogDemoDataFunction``) on the table built from template.yaml: complete,
listable, idempotent, and a CloudFormation custom resource when CloudFormation asks."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ecommerce.catalog.demo import CATEGORIES, demo_catalog, handler, load_catalog
from ecommerce.catalog.domain import Partition
from ecommerce.catalog.store import DynamoCategorySource, DynamoProductRepository
from gears.local.lambda_context import LambdaContext
from tests.conftest import ROOT


def test_the_whole_catalog_loads_once(table_name: str) -> None:
    products = demo_catalog()
    first = load_catalog(table_name)
    assert (first.products_written, first.products_present) == (len(products), 0)
    assert first.categories_written == len(CATEGORIES)

    again = load_catalog(table_name)
    assert (again.products_written, again.products_present, again.categories_written) == (0, len(products), 0)

    repo = DynamoProductRepository(table_name)
    sample = products[123]
    assert repo.get(sample.product_id) == replace(sample, version=1)
    listed = 0
    for shard in range(8):
        start = None
        while True:
            items, start = repo.query_active(Partition(None, shard), 100, start)
            listed += len(items)
            if start is None:
                break
    assert listed == len(products) == 3_131
    assert len(DynamoCategorySource(table_name).all()) == len(CATEGORIES)


def test_an_existing_product_is_left_alone(table_name: str) -> None:
    products = demo_catalog()[:30]
    edited = replace(products[0], details=replace(products[0].details, title="Edited by an admin"), version=5)
    load_catalog(table_name, [edited], CATEGORIES)
    report = load_catalog(table_name, products, CATEGORIES)
    assert (report.products_written, report.products_present) == (29, 1)
    assert DynamoProductRepository(table_name).get(edited.product_id).details.title == "Edited by an admin"


def test_products_of_unknown_categories_are_refused(table_name: str) -> None:
    product = demo_catalog()[0]
    stray = replace(product, details=replace(product.details, category="nowhere"))
    with pytest.raises(ValueError, match="nowhere"):
        load_catalog(table_name, [stray], CATEGORIES)


def test_a_plain_invocation_loads_and_answers_the_summary(
    table_name: str, lambda_env: Callable[[str], dict[str, str]]
) -> None:
    lambda_env("CatalogDemoDataFunction")
    context = LambdaContext("CatalogDemoDataFunction", timeout_s=300)
    sample = json.loads(
        (ROOT / "events" / "CatalogDemoDataFunction" / "load.json").read_text()
    )  # a plain invocation: no ResponseURL
    first = handler(sample, context)
    assert (first["productsWritten"], first["productsPresent"], first["categoriesWritten"]) == (3_131, 0, 25)
    assert first["summary"] == "3131 products and 25 categories written, 0 already there"
    again = handler({}, context)
    assert (again["productsWritten"], again["productsPresent"]) == (0, 3_131)


class CloudFormation:
    """Where a custom resource's answer goes: a local HTTP endpoint standing in for the pre-signed S3 URL."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        answers = self.answers

        class Receiver(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/answer?X-Amz-Signature=x"

    def request(self, request_type: str, **extra: str) -> dict[str, Any]:
        return {
            "RequestType": request_type,
            "ResponseURL": self.url,
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/gears/1",
            "RequestId": f"request-{request_type}",
            "LogicalResourceId": "CatalogDemoData",
            "ResourceType": "Custom::DemoData",
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:demo"},
            **extra,
        }


@pytest.fixture
def cloudformation() -> Iterator[CloudFormation]:
    cfn = CloudFormation()
    yield cfn
    cfn.server.shutdown()
    cfn.server.server_close()


def test_cloudformation_gets_its_answer_on_create_and_delete(
    table_name: str, lambda_env: Callable[[str], dict[str, str]], cloudformation: CloudFormation
) -> None:
    lambda_env("CatalogDemoDataFunction")
    context = LambdaContext("CatalogDemoDataFunction", timeout_s=300)
    handler(cloudformation.request("Create"), context)
    handler(cloudformation.request("Delete", PhysicalResourceId="CatalogDemoData"), context)
    created, deleted = cloudformation.answers
    assert (created["Status"], created["RequestId"], created["LogicalResourceId"]) == (
        "SUCCESS",
        "request-Create",
        "CatalogDemoData",
    )
    assert created["StackId"] == "arn:aws:cloudformation:us-east-1:123456789012:stack/gears/1"
    assert created["Data"]["productsWritten"] == 3_131
    assert (deleted["Status"], deleted["PhysicalResourceId"], deleted["Data"]) == ("SUCCESS", "CatalogDemoData", {})
    assert DynamoProductRepository(table_name).existing_ids([demo_catalog()[0].product_id])  # deleting kept the data


def test_cloudformation_hears_of_a_failure(
    lambda_env: Callable[[str], dict[str, str]], cloudformation: CloudFormation, monkeypatch: pytest.MonkeyPatch
) -> None:
    lambda_env("CatalogDemoDataFunction")
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    handler(cloudformation.request("Create"), LambdaContext("CatalogDemoDataFunction", timeout_s=300))
    [failed] = cloudformation.answers
    assert failed["Status"] == "FAILED"
    assert failed["Reason"]
