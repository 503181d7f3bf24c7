"""Parametrize marks over the variant matrix, shared by the template's test modules.

Every variant's tests carry its id and an `xdist_group` of that id, so one worker
renders and checks each variant (see `conftest.py` for the scheduling).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

import template_support as support


def variant_params(variants: Iterable[dict[str, Any]]) -> list[Any]:
    """`pytest.param`s of `variants`, named and grouped by variant id."""
    return [
        pytest.param(
            variant,
            id=support.variant_id(variant),
            marks=pytest.mark.xdist_group(support.variant_id(variant)),
        )
        for variant in variants
    ]


every_variant = pytest.mark.parametrize("variant", variant_params(support.variants()))
sql_variants = pytest.mark.parametrize(
    "variant", variant_params(v for v in support.variants() if v.get("database") == "sql")
)
dynamodb_variants = pytest.mark.parametrize(
    "variant", variant_params(v for v in support.variants() if v.get("database") == "dynamodb")
)
# A few variants that between them use every choice (both databases among them).
covering_variants = pytest.mark.parametrize("variant", variant_params(support.covering_variants()))
