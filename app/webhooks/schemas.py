"""The bodies of OneTablet's webhooks (contract §3.1). Strict types: "true" is not a bool and
"12" is not a price. Unknown extra fields are accepted (OneTablet may add some)."""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError, field_validator

from ..domain.lifecycle import CANCEL_REASONS
from ..infra.validation import OUT_OF_YEARS, Cents, IsoDateTime

Text = Field(min_length=1, max_length=255)


class Body(BaseModel):
    model_config = ConfigDict(extra="allow")


class OrderConfirmation(Body):
    merchant_supplied_id: StrictStr = Text
    order_status: Literal["success", "fail"]
    # The guide sends the time the order will be ready; minutes from now are accepted too.
    prep_time: Optional[Union[StrictInt, IsoDateTime]] = None
    failure_reason: Optional[StrictStr] = Field(default=None, max_length=2000)

    @field_validator("prep_time", mode="wrap")
    @classmethod
    def _prep_time(cls, value, handler):
        try:
            value = handler(value)
        except ValidationError as error:  # one error that says what fits, not one per member of the Union
            if any(e["msg"].endswith(OUT_OF_YEARS) for e in error.errors()):
                raise ValueError(OUT_OF_YEARS) from None  # a time, but not one a deadline can follow
            raise ValueError("must be minutes (an integer) or an ISO 8601 date-time, "
                             "e.g. 2024-01-15T18:30:00Z") from None
        if isinstance(value, int) and not 0 <= value <= 24 * 60:
            raise ValueError("in minutes, must be between 0 and 1440 (a day)")
        return value


class OrderReady(Body):
    merchant_supplied_id: StrictStr = Text


class OrderCancellation(Body):
    cancel_reason: Literal[CANCEL_REASONS]  # type: ignore[valid-type]
    cancel_details: Optional[StrictStr] = Field(default=None, max_length=2000)


class StoreStatus(Body):
    is_active: StrictBool
    reason: Optional[StrictStr] = Field(default=None, max_length=2000)
    resume_at: Optional[IsoDateTime] = None


class ItemAvailability(Body):
    merchant_supplied_id: StrictStr = Text
    is_available: StrictBool


class StoreItems(Body):
    items: list[ItemAvailability] = Field(min_length=1, max_length=5000)


class MenuEntry(Body):
    merchant_supplied_id: StrictStr = Text
    name: StrictStr = Field(max_length=255)
    price: Cents


class MenuCategory(Body):
    name: StrictStr = Field(max_length=255)
    items: list[MenuEntry] = Field(max_length=5000)


class StoreMenu(Body):
    categories: list[MenuCategory] = Field(max_length=500)

    @field_validator("categories")
    @classmethod
    def _unique_items(cls, categories):
        seen = set()
        for category in categories:
            for item in category.items:
                if item.merchant_supplied_id in seen:
                    raise ValueError(f"item {item.merchant_supplied_id!r} appears twice in the menu")
                seen.add(item.merchant_supplied_id)
        return categories
