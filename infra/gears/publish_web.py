"""``gears publish-web --stack NAME``: put the built storefront and console (``web/dist``, ``make web``) in the
stack's ``WebBucket`` and tell its CloudFront distribution, after ``sam deploy``.

Assets (content-hashed names) are stored for a year and uploaded first; the pages and ``config.json`` (the API's
URL from the stack's ``ApiUrl`` output, and Stripe's publishable key when real Stripe is used) are stored
``no-cache`` and uploaded last, so a visitor never gets a page whose assets are not there yet. Files of an older
build are left in place (a page still open keeps working) and the pages' paths are invalidated.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gears.local.static_site import TYPES

ASSET_CACHE = "public, max-age=31536000, immutable"
PAGE_CACHE = "no-cache"


def files(dist: Path) -> Iterator[tuple[str, Path]]:
    """(key, file) for every file of the build, assets before pages."""
    found = sorted((p.relative_to(dist).as_posix(), p) for p in dist.rglob("*") if p.is_file())
    yield from (f for f in found if f[0].startswith("assets/"))
    yield from (f for f in found if not f[0].startswith("assets/"))


def publish(
    dist: Path,
    *,
    bucket: str,
    api_url: str,
    s3: Any,
    cloudfront: Any | None = None,
    distribution_id: str | None = None,
    stripe_publishable_key: str | None = None,
) -> dict[str, Any]:
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist} has no build: run `make web` first")
    uploaded = []
    for key, path in files(dist):
        kind = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        cache = ASSET_CACHE if key.startswith("assets/") else PAGE_CACHE
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=kind, CacheControl=cache)
        uploaded.append(key)
    config = {"apiUrl": api_url.rstrip("/"), "localCloud": False, "stripePublishableKey": stripe_publishable_key}
    s3.put_object(
        Bucket=bucket,
        Key="config.json",
        Body=json.dumps(config).encode(),
        ContentType="application/json",
        CacheControl="no-store",
    )
    uploaded.append("config.json")
    invalidation = None
    if cloudfront is not None and distribution_id:
        pages = sorted({f"/{k}" for k in uploaded if not k.startswith("assets/")} | {"/"})
        invalidation = cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={"Paths": {"Quantity": len(pages), "Items": pages}, "CallerReference": str(time.time())},
        )["Invalidation"]["Id"]
    return {"bucket": bucket, "files": len(uploaded), "config": config, "invalidation": invalidation}


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs") or []}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="the deployed stack's name (samconfig.toml's stack_name)")
    parser.add_argument("--region", default=None, help="the stack's region (default: the AWS configuration's)")
    parser.add_argument("--dist", default="web/dist", help="the build to publish (default web/dist)")
    parser.add_argument("--stripe-publishable-key", default=None, help="pk_live_... / pk_test_... for real Stripe")


def run(args: argparse.Namespace) -> int:
    import boto3

    session = boto3.Session(region_name=args.region)
    outputs = stack_outputs(session.client("cloudformation"), args.stack)
    missing = [k for k in ("WebBucketName", "WebDistributionId", "ApiUrl", "WebUrl") if k not in outputs]
    if missing:
        raise SystemExit(f"stack {args.stack} has no {', '.join(missing)} output: deploy the current template.yaml")
    done = publish(
        Path(args.dist),
        bucket=outputs["WebBucketName"],
        api_url=outputs["ApiUrl"],
        s3=session.client("s3"),
        cloudfront=session.client("cloudfront"),
        distribution_id=outputs["WebDistributionId"],
        stripe_publishable_key=args.stripe_publishable_key,
    )
    print(f"published {done['files']} files to s3://{done['bucket']}; the shop is at {outputs['WebUrl']}")
    return 0
