"""The one table: string keys `pk` and `sk`, on-demand capacity, TTL on `delete_after`.

There is no secondary index. Every read on an authentication path is a strongly
consistent `GetItem` or `Query` on the table itself (see `stores.py` for why).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient

# Epoch seconds after which DynamoDB may delete a session or token item.
EXPIRY_ATTRIBUTE = "delete_after"

# Real tables take seconds to become ACTIVE; two minutes is a generous ceiling.
_WAIT_DELAY_SECONDS = 2
_WAIT_MAX_ATTEMPTS = 60


async def ensure_table(client: DynamoDBClient, table_name: str) -> bool:
    """Create the table unless it exists, wait until it is ACTIVE, and switch on TTL;
    whether this call created it.

    Safe to run any number of times, also by several processes at once.
    """
    # Already there, or being created by another process: either way, wait for ACTIVE.
    created = False
    with contextlib.suppress(client.exceptions.ResourceInUseException):
        await client.create_table(
            TableName=table_name,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        created = True
    await client.get_waiter("table_exists").wait(
        TableName=table_name,
        WaiterConfig={"Delay": _WAIT_DELAY_SECONDS, "MaxAttempts": _WAIT_MAX_ATTEMPTS},
    )
    # Enabling TTL twice is an error, so only a table without it gets the call.
    if await _ttl_enabled(client, table_name):
        return created
    try:
        await client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE},
        )
    except ClientError:
        # Several workers migrating at start-up race here; losing the race is fine.
        if not await _ttl_enabled(client, table_name):
            raise
    return created


async def _ttl_enabled(client: DynamoDBClient, table_name: str) -> bool:
    description = await client.describe_time_to_live(TableName=table_name)
    status = description["TimeToLiveDescription"].get("TimeToLiveStatus", "DISABLED")
    return status in {"ENABLING", "ENABLED"}
