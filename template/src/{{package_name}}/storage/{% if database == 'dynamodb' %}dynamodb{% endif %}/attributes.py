"""DynamoDB's typed attribute values, to and from plain Python values.

Writing is deliberately narrow (strings, booleans, integers, lists of strings):
those are all the items of this service hold. Reading decodes every type
DynamoDB can return, so that a mistyped attribute reaches the item models as
what it is (a number where a boolean belongs, say) and is rejected there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    # The type stubs are a development dependency; nothing here needs them at run time.
    from types_aiobotocore_dynamodb.type_defs import AttributeValueTypeDef

Item: TypeAlias = dict[str, "AttributeValueTypeDef"]
Writable: TypeAlias = str | bool | int | Sequence[str]


def to_attribute(value: Writable) -> AttributeValueTypeDef:
    """The attribute value for a plain value."""
    # bool before int: True is an int in Python but must stay a BOOL in DynamoDB.
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    return {"L": [{"S": element} for element in value]}


def to_item(**attributes: Writable | None) -> Item:
    """An item from keyword attributes; `None` leaves the attribute out.

    An absent attribute is how DynamoDB says "not set", and it is what the
    conditions `attribute_not_exists(revoked_at)` and `attribute_not_exists(used_at)` test.
    """
    return {name: to_attribute(value) for name, value in attributes.items() if value is not None}


def from_attribute(value: Mapping[str, Any]) -> object:
    """The plain value of an attribute value (numbers as `Decimal`, sets as `frozenset`)."""
    if "S" in value:
        return str(value["S"])
    if "BOOL" in value:
        return bool(value["BOOL"])
    if "N" in value:
        return Decimal(value["N"])
    if "NULL" in value:
        return None
    if "B" in value:
        return bytes(value["B"])
    if "L" in value:
        return [from_attribute(element) for element in value["L"]]
    if "M" in value:
        return {name: from_attribute(element) for name, element in value["M"].items()}
    if "SS" in value:
        return frozenset(str(element) for element in value["SS"])
    if "NS" in value:
        return frozenset(Decimal(element) for element in value["NS"])
    if "BS" in value:
        return frozenset(bytes(element) for element in value["BS"])
    raise ValueError(f"unknown attribute value type: {sorted(value)}")


def from_item(item: Mapping[str, AttributeValueTypeDef]) -> dict[str, object]:
    """The plain values of an item, ready for an item model to validate."""
    return {name: from_attribute(value) for name, value in item.items()}


def format_utc(moment: datetime) -> str:
    """A timezone-aware datetime as fixed-width ISO-8601 UTC with microseconds.

    Every stored time has this exact width and offset, so DynamoDB can compare them as
    strings (`expires_at > :now`) and get the order of the instants.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetimes are not stored")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch, the format of DynamoDB's TTL attribute."""
    return int(moment.timestamp())
