"""DynamoDB items as plain dicts, for the index table: the item format's side of the AWS gateway."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from .errors import RetryableAwsError, call


class ItemTables:
    """DynamoDB items as plain dicts (strings, numbers as int, lists of strings), through the low-level client."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._to = TypeSerializer()
        self._from = TypeDeserializer()

    def query(self, table: str, pk: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": pk}},
                "ConsistentRead": True,
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = call("Query", self.client.query, **kwargs)
            items += [{k: _plain(self._from.deserialize(v)) for k, v in item.items()} for item in page.get("Items", [])]
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    def write(self, table: str, requests: list[dict[str, Any]]) -> None:
        # BatchWriteItem takes 25 requests; what DynamoDB leaves unprocessed is sent again, then it is an error.
        for offset in range(0, len(requests), 25):
            pending = {table: requests[offset : offset + 25]}
            for _ in range(5):
                response = call("BatchWriteItem", self.client.batch_write_item, RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
            else:
                raise RetryableAwsError("BatchWriteItem", "UnprocessedItems", "DynamoDB left items unprocessed")

    def put(self, table: str, items: list[dict[str, Any]]) -> None:
        self.write(table, [{"PutRequest": {"Item": {k: self._to.serialize(v) for k, v in i.items()}}} for i in items])

    def delete(self, table: str, keys: list[tuple[str, str]]) -> None:
        self.write(table, [{"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}} for pk, sk in keys])


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal and sets as set: give the index ints and sorted lists."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
