"""The local cloud's faster Query gives exactly the answers, pages and order that moto's own Query gives."""

from __future__ import annotations

import json
import random
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gears.local import moto_dynamodb


def _table(client: Any, name: str, *, range_key: bool) -> None:
    attrs = [("pk", "S"), ("g", "S"), ("gs", "N")] + ([("sk", "S")] if range_key else [])
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}] + (
        [{"AttributeName": "sk", "KeyType": "RANGE"}] if range_key else []
    )
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in attrs],
        KeySchema=keys,
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "gs", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def _queries() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for pk in ("P#1", "P#7", "P#missing"):
        out.append(
            {"TableName": "ranged", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": pk}}}
        )
        out.append(
            {
                "TableName": "ranged",
                "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
                "ExpressionAttributeValues": {":p": {"S": pk}, ":s": {"S": "B"}},
                "ScanIndexForward": False,
            }
        )
        out.append(
            {"TableName": "plain", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": pk}}}
        )
    for g in ("G#0", "G#3"):
        for table in ("ranged", "plain"):
            out.append(
                {
                    "TableName": table,
                    "IndexName": "gsi",
                    "KeyConditionExpression": "g = :g AND gs > :n",
                    "ExpressionAttributeValues": {":g": {"S": g}, ":n": {"N": "10"}},
                    "FilterExpression": "attribute_exists(v)",
                }
            )
    return out


def _run_all(client: Any) -> list[list[list[dict[str, Any]]]]:
    """Every query, paged 3 at a time to the end: the pages themselves must match."""
    answers = []
    for q in _queries():
        pages, start = [], None
        while True:
            args = {**q, "Limit": 3, **({"ExclusiveStartKey": start} if start else {})}
            out = client.query(**args)
            pages.append(out["Items"])
            start = out.get("LastEvaluatedKey")
            if not start:
                break
        answers.append(pages)
    return answers


def test_same_answers_with_and_without_the_speedup() -> None:
    rng = random.Random(7)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        _table(client, "ranged", range_key=True)
        _table(client, "plain", range_key=False)
        for i in range(400):
            pk = f"P#{rng.randrange(12)}"
            item = {"pk": {"S": pk}, "g": {"S": f"G#{rng.randrange(5)}"}, "gs": {"N": str(rng.randrange(60))}}
            if rng.random() < 0.8:
                item["v"] = {"S": "x" * rng.randrange(1, 40)}
            client.put_item(TableName="ranged", Item={**item, "sk": {"S": rng.choice("ABC") + str(i)}})
            client.put_item(TableName="plain", Item={**item, "pk": {"S": f"P#{i}"}})
        expected = _run_all(client)
        moto_dynamodb.speed_up_query()
        try:
            assert _run_all(client) == expected
            # Writes between queries (index keys moved, items added and deleted, in place and in batches) must be
            # seen by the next query: the sped-up index reads keep a grouping only until the next write.
            moved = []
            for round_ in range(3):
                for i in range(0, 400, 7):
                    key = {"pk": {"S": f"P#{i}"}}
                    client.update_item(
                        TableName="plain",
                        Key=key,
                        UpdateExpression="SET g = :g",
                        ExpressionAttributeValues={":g": {"S": f"G#{(i + round_) % 5}"}},
                    )
                client.delete_item(TableName="plain", Key={"pk": {"S": f"P#{round_ * 3}"}})
                client.batch_write_item(
                    RequestItems={
                        "plain": [
                            {
                                "PutRequest": {
                                    "Item": {"pk": {"S": f"N#{round_}#{j}"}, "g": {"S": "G#0"}, "gs": {"N": "50"}}
                                }
                            }
                            for j in range(5)
                        ]
                    }
                )
                fast = _run_all(client)
                moto_dynamodb.remove_query_speedup()
                plain = _run_all(client)
                moto_dynamodb.speed_up_query()
                assert fast == plain
                moved.append(fast)
            assert moved[0] != moved[1]  # the writes did change the answers
        finally:
            moto_dynamodb.remove_query_speedup()
        assert sum(len(page) for pages in expected for page in pages) > 100  # the comparison covered real data


def test_concurrent_conditional_transactions_never_oversell() -> None:
    """12 shoppers, 3 units: with atomic requests exactly 3 transactions pass (moto alone has let 4 to 6 through)."""
    import threading

    moto_dynamodb.make_requests_atomic()
    with mock_aws():
        setup = boto3.client("dynamodb", region_name="us-east-1")
        setup.create_table(
            TableName="stock",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        setup.put_item(TableName="stock", Item={"pk": {"S": "SKU#1"}, "available": {"N": "3"}})
        for i in range(200):  # a table of some size, so a transaction's work takes a while
            setup.put_item(TableName="stock", Item={"pk": {"S": f"OTHER#{i}"}, "available": {"N": "1"}})
        won: list[int] = []
        start = threading.Barrier(12)

        def shopper(n: int) -> None:
            client = boto3.client("dynamodb", region_name="us-east-1")
            start.wait()
            try:
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": "stock",
                                "Key": {"pk": {"S": "SKU#1"}},
                                "UpdateExpression": "SET available = available - :one",
                                "ConditionExpression": "available >= :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}},
                            }
                        },
                        {"Put": {"TableName": "stock", "Item": {"pk": {"S": f"RES#{n}"}, "available": {"N": "0"}}}},
                    ]
                )
                won.append(n)
            except client.exceptions.TransactionCanceledException:
                pass

        threads = [threading.Thread(target=shopper, args=(n,)) for n in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        left = setup.get_item(TableName="stock", Key={"pk": {"S": "SKU#1"}})["Item"]["available"]["N"]
        assert len(won) == 3
        assert left == "0"


def _items(client: Any, table: str) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=table)["Items"], key=lambda i: json.dumps(i, sort_keys=True))


def _stream_count(table: str) -> int:
    arn = boto3.client("dynamodb", region_name="us-east-1").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return len(streams.get_records(ShardIterator=it)["Records"])


def test_cheap_transactions_commit_or_leave_no_trace() -> None:
    """A cancelled transaction leaves items and the stream as they were; a committed one writes everything."""
    moto_dynamodb.make_requests_atomic()
    moto_dynamodb.speed_up_transactions()
    with mock_aws():
        c = boto3.client("dynamodb", region_name="us-east-1")
        for name, keys in (("ranged", ["pk", "sk"]), ("plain", ["pk"])):
            c.create_table(
                TableName=name,
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
                KeySchema=[{"AttributeName": k, "KeyType": "HASH" if k == "pk" else "RANGE"} for k in keys],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
        c.put_item(TableName="ranged", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "5"}})
        c.put_item(TableName="plain", Item={"pk": {"S": "x"}, "n": {"N": "1"}})
        before = (_items(c, "ranged"), _items(c, "plain"), _stream_count("ranged"), _stream_count("plain"))
        writes = [
            {"Put": {"TableName": "ranged", "Item": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},  # new item, same partition
            {"Put": {"TableName": "ranged", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},  # new partition
            {"Put": {"TableName": "plain", "Item": {"pk": {"S": "y"}}}},
            {
                "Update": {
                    "TableName": "ranged",
                    "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                    "UpdateExpression": "SET n = n - :d",
                    "ExpressionAttributeValues": {":d": {"N": "1"}},
                }
            },
            {"Delete": {"TableName": "plain", "Key": {"pk": {"S": "x"}}}},
        ]
        failing_check = {
            "ConditionCheck": {
                "TableName": "plain",
                "Key": {"pk": {"S": "nobody"}},
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
        with pytest.raises(c.exceptions.TransactionCanceledException):
            c.transact_write_items(TransactItems=[*writes, failing_check])
        assert (_items(c, "ranged"), _items(c, "plain"), _stream_count("ranged"), _stream_count("plain")) == before
        c.transact_write_items(TransactItems=writes)
        assert len(_items(c, "ranged")) == 3
        assert [i["pk"]["S"] for i in _items(c, "plain")] == ["y"]
        item = c.get_item(TableName="ranged", Key={"pk": {"S": "a"}, "sk": {"S": "1"}})["Item"]
        assert item["n"] == {"N": "4"}
        assert _stream_count("ranged") == before[2] + 3


def test_items_are_still_held_to_400_kb() -> None:
    moto_dynamodb.speed_up_item_size()
    with mock_aws():
        c = boto3.client("dynamodb", region_name="us-east-1")
        c.create_table(
            TableName="big",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        c.put_item(TableName="big", Item={"pk": {"S": "ok"}, **{f"a{i}": {"S": "x" * 1000} for i in range(390)}})
        with pytest.raises(c.exceptions.ClientError, match="maximum allowed size"):
            c.put_item(TableName="big", Item={"pk": {"S": "no"}, **{f"a{i}": {"S": "x" * 1000} for i in range(410)}})
        with pytest.raises(c.exceptions.ClientError, match="maximum allowed size"):
            c.batch_write_item(
                RequestItems={"big": [{"PutRequest": {"Item": {"pk": {"S": "b"}, "a": {"S": "x" * 406_000}}}}]}
            )


def test_conditions_lexed_once_answer_as_when_lexed_each_time() -> None:
    """The second use of each condition text (its tokens kept from the first) gets the first use's answer."""
    moto_dynamodb.speed_up_condition_lexing()
    conditions = [
        ("attribute_not_exists(pk)", {}, {}),
        (
            "attribute_not_exists(#pk) OR (#s = :ip AND lease < :now)",
            {"#pk": "pk", "#s": "status"},
            {":ip": {"S": "IP"}, ":now": {"N": "5"}},
        ),
        ("n BETWEEN :lo AND :hi", {}, {":lo": {"N": "1"}, ":hi": {"N": "3"}}),
        ("size(tags) > :z AND begins_with(pk, :p)", {}, {":z": {"N": "0"}, ":p": {"S": "a"}}),
        ("status = :s", {}, {":s": {"S": "x"}}),  # a reserved word: refused
        ("n <> :x AND NOT contains(tags, :t)", {}, {":x": {"N": "9"}, ":t": {"S": "b"}}),
        ("(((n = :x)))", {}, {":x": {"N": "2"}}),  # redundant parentheses: refused
        ("n == :x", {}, {":x": {"N": "2"}}),  # not a comparator
    ]

    def outcomes(c: Any) -> list[str]:
        out = []
        for i, (expr, names, values) in enumerate(conditions):
            args: dict[str, Any] = {"ConditionExpression": expr}
            if names:
                args["ExpressionAttributeNames"] = names
            if values:
                args["ExpressionAttributeValues"] = values
            item = {
                "pk": {"S": f"a{i}"},
                "n": {"N": "2"},
                "tags": {"SS": ["b"]},
                "status": {"S": "IP"},
                "lease": {"N": "1"},
            }
            try:
                c.put_item(TableName="cond", Item=item, **args)
                out.append("ok")
            except c.exceptions.ClientError as exc:
                out.append(f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}")
            except ValueError as exc:  # moto's own refusal of some expressions, raised as it is in-process
                out.append(f"ValueError: {exc}")
        return out

    with mock_aws():
        c = boto3.client("dynamodb", region_name="us-east-1")
        c.create_table(
            TableName="cond",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        first = outcomes(c)
        c.delete_table(TableName="cond")
        c.create_table(
            TableName="cond",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        assert outcomes(c) == first
        assert "ok" in first
        assert any(o != "ok" for o in first)


def _updates() -> list[dict[str, Any]]:
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    names = {"#u": "units", "#r": "revenue", "#t": "title", "#x": "p-1|units"}
    return [
        {
            "Key": key,
            "UpdateExpression": "ADD #u :n, #r :m",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":n": {"N": "2"}, ":m": {"N": "300"}},
        },
        {
            "Key": key,
            "UpdateExpression": "ADD #u :n SET #t = :t",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":n": {"N": "-1"}, ":t": {"S": "Mug"}},
        },
        {
            "Key": key,
            "UpdateExpression": "SET #t = :t ADD #x :n",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":t": {"S": "Big mug"}, ":n": {"N": "1.5"}},
        },
        {
            "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}},
            "UpdateExpression": "SET #t = :t",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":t": {"M": {"a": {"L": [{"N": "1"}]}}}},
        },
        # what the fast path leaves to moto: a condition, REMOVE, arithmetic, a set, a string added to
        {
            "Key": key,
            "UpdateExpression": "ADD #u :n",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":n": {"N": "5"}},
        },
        {"Key": key, "UpdateExpression": "REMOVE #r", "ExpressionAttributeNames": names},
        {
            "Key": key,
            "UpdateExpression": "SET #u = #u + :n",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":n": {"N": "10"}},
        },
        {"Key": key, "UpdateExpression": "ADD tags :s", "ExpressionAttributeValues": {":s": {"SS": ["x"]}}},
        {
            "Key": key,
            "UpdateExpression": "ADD #t :n",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":n": {"N": "1"}},
        },  # a string: refused
        {
            "Key": key,
            "UpdateExpression": "ADD #u :n, #u :n",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":n": {"N": "1"}},
        },  # one attribute twice: refused
        {"Key": key, "UpdateExpression": "SET pk = :p", "ExpressionAttributeValues": {":p": {"S": "z"}}},  # the key
    ]


def _used(update: dict[str, Any]) -> dict[str, Any]:
    """The update with only the names its expressions use (DynamoDB refuses unused ones)."""
    text = update["UpdateExpression"] + update.get("ConditionExpression", "")
    names = {k: v for k, v in update.get("ExpressionAttributeNames", {}).items() if k in text}
    return (
        {**update, "ExpressionAttributeNames": names}
        if names
        else {k: v for k, v in update.items() if k != "ExpressionAttributeNames"}
    )


def test_plain_add_and_set_updates_leave_what_motos_own_update_leaves() -> None:
    """Items, errors and stream images alike, with the fast path and without it (moto's own update writes an extra
    INSERT record of the bare key before the one of the item it creates: left out of the comparison)."""

    def run() -> tuple[list[Any], list[str], list[tuple[str, Any]]]:
        with mock_aws():
            c = boto3.client("dynamodb", region_name="us-east-1")
            c.create_table(
                TableName="t",
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
            errors = []
            for update in _updates():
                try:
                    c.update_item(TableName="t", **_used(update))
                    errors.append("ok")
                except c.exceptions.ClientError as exc:
                    errors.append(exc.response["Error"]["Code"])
            items = sorted(c.scan(TableName="t")["Items"], key=lambda i: i["pk"]["S"])
            streams = boto3.client("dynamodbstreams", region_name="us-east-1")
            arn = c.describe_table(TableName="t")["Table"]["LatestStreamArn"]
            shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
            it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
            records = streams.get_records(ShardIterator=it["ShardIterator"])["Records"]
            images = [(r["eventName"], r["dynamodb"].get("NewImage")) for r in records]
            return items, errors, [(name, img) for name, img in images if img is None or set(img) != {"pk", "sk"}]

    moto_dynamodb.remove_simple_updates()
    plain = run()
    moto_dynamodb.speed_up_simple_updates()
    try:
        fast = run()
    finally:
        moto_dynamodb.remove_simple_updates()
    assert fast[1] == plain[1]
    assert fast[0] == plain[0]
    assert [img for _, img in fast[2]] == [img for _, img in plain[2]]
    assert plain[1][:4] == ["ok", "ok", "ok", "ok"]


def test_only_plain_clauses_take_the_fast_path() -> None:
    names, values = {"#a": "a", "#b": "b"}, {":n": {"N": "1"}, ":s": {"S": "x"}}
    keys = {"pk", "sk"}
    assert moto_dynamodb.simple_update("ADD #a :n SET #b = :s", names, values, keys) == [
        ("ADD", "a", {"N": "1"}),
        ("SET", "b", {"S": "x"}),
    ]
    for expression in ("ADD #a :s", "SET #a = #a + :n", "REMOVE #a", "add #a :n", "ADD #a :n ADD #b :n", "ADD a :n"):
        assert moto_dynamodb.simple_update(expression, names, values, keys) is None, expression


def test_a_stream_read_waits_for_the_write_under_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """A transaction appends its stream records as it goes and takes them back if it fails: a GetRecords in the
    middle would read records that are then taken back, and skip the next write's records that reuse their sequence
    numbers. Stream reads wait for the DynamoDB request under way."""
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    moto_dynamodb.make_requests_atomic()
    moto_dynamodb.speed_up_transactions()
    with mock_aws():
        c = boto3.client("dynamodb", region_name="us-east-1")
        c.create_table(
            TableName="s",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        c.put_item(TableName="s", Item={"pk": {"S": "before"}})
        streams = boto3.client("dynamodbstreams", region_name="us-east-1")
        arn = c.describe_table(TableName="s")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        streams.get_records(ShardIterator=it)  # warm: the read below is one request and nothing else
        seen: list[int] = []
        reader = threading.Thread(target=lambda: seen.append(len(streams.get_records(ShardIterator=it)["Records"])))
        real = DynamoDBBackend.transact_write_items

        def in_the_middle(self: Any, items: list[dict[str, Any]]) -> Any:
            result = real(self, items)  # its records are appended; the request has not answered yet
            reader.start()
            reader.join(0.5)
            assert reader.is_alive(), "a stream read ran inside a DynamoDB request"
            return result

        monkeypatch.setattr(DynamoDBBackend, "transact_write_items", in_the_middle)
        c.transact_write_items(TransactItems=[{"Put": {"TableName": "s", "Item": {"pk": {"S": "during"}}}}])
        reader.join(5)
        assert seen == [2]
