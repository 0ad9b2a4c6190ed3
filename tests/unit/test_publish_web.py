"""``gears publish-web``: the build goes to the stack's bucket assets first, pages and config.json last and never
cached stale, and the distribution is told which paths changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gears.publish_web import publish


class Invalidations:
    def __init__(self) -> None:
        self.batches: list[dict[str, Any]] = []

    def create_invalidation(self, DistributionId: str, InvalidationBatch: dict[str, Any]) -> dict[str, Any]:
        self.batches.append({"distribution": DistributionId, **InvalidationBatch})
        return {"Invalidation": {"Id": "I1"}}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "admin.html").write_text("<!doctype html>")
    (tmp_path / "assets" / "ui-1a2b.js").write_text("x")
    (tmp_path / "assets" / "ui-1a2b.css").write_text("y")
    return tmp_path


@mock_aws
def test_assets_then_pages_then_the_config_with_the_apis_address(dist: Path) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="web")
    order: list[str] = []
    put = s3.put_object

    def recording_put(**kw: Any) -> Any:
        order.append(kw["Key"])
        return put(**kw)

    s3.put_object = recording_put  # type: ignore[method-assign]
    cloudfront = Invalidations()
    done = publish(
        dist,
        bucket="web",
        api_url="https://abc.execute-api.us-east-1.amazonaws.com/",
        s3=s3,
        cloudfront=cloudfront,
        distribution_id="D1",
        stripe_publishable_key="pk_test_1",
    )
    assert order == ["assets/ui-1a2b.css", "assets/ui-1a2b.js", "admin.html", "index.html", "config.json"]
    asset = s3.get_object(Bucket="web", Key="assets/ui-1a2b.js")
    assert (asset["ContentType"], asset["CacheControl"]) == (
        "text/javascript; charset=utf-8",
        "public, max-age=31536000, immutable",
    )
    assert s3.get_object(Bucket="web", Key="index.html")["CacheControl"] == "no-cache"
    config = json.loads(s3.get_object(Bucket="web", Key="config.json")["Body"].read())
    assert config == {
        "apiUrl": "https://abc.execute-api.us-east-1.amazonaws.com",
        "localCloud": False,
        "stripePublishableKey": "pk_test_1",
    }
    [batch] = cloudfront.batches
    assert batch["distribution"] == "D1"
    assert batch["Paths"]["Items"] == ["/", "/admin.html", "/config.json", "/index.html"]
    assert done["files"] == 5


def test_nothing_is_published_without_a_build(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="make web"):
        publish(tmp_path, bucket="web", api_url="https://x", s3=object())
