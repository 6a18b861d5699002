"""The order the customer app hands Passline: the guide's `POST /orders` body.

Only what Passline relies on is checked; every other field (tip, fees, address,
instructions, item options...) is kept as sent and forwarded to OneTablet unchanged."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

from ..validation import IsoDateTime

Cents = Field(ge=0, le=100_000_000)


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class StoreRef(Open):
    merchant_supplied_id: StrictStr = Field(min_length=1, max_length=255)
    timezone: Optional[StrictStr] = Field(default=None, max_length=64)


class Consumer(Open):
    first_name: StrictStr = Field(min_length=1, max_length=255)
    last_name: Optional[StrictStr] = Field(default=None, max_length=255)
    phone: Optional[StrictStr] = Field(default=None, max_length=64)
    email: Optional[StrictStr] = Field(default=None, max_length=255)


class Item(Open):
    merchant_supplied_id: StrictStr = Field(min_length=1, max_length=255)
    quantity: StrictInt = Field(ge=1, le=1000)
    price: StrictInt = Cents
    name: Optional[StrictStr] = Field(default=None, max_length=255)


class Category(Open):
    name: Optional[StrictStr] = Field(default=None, max_length=255)
    items: list[Item] = Field(min_length=1, max_length=500)


class NewOrder(Open):
    id: StrictStr = Field(min_length=1, max_length=255)
    store: StoreRef
    consumer: Consumer
    subtotal: StrictInt = Cents
    tax: StrictInt = Cents
    is_pickup: StrictBool = False
    fulfillment_type: Optional[Literal["pickup", "dx_delivery", "mx_fleet_delivery"]] = None
    estimated_pickup_time: Optional[IsoDateTime] = None
    categories: list[Category] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _fulfillment(self):
        if self.fulfillment_type is None:
            self.fulfillment_type = "pickup" if self.is_pickup else "mx_fleet_delivery"
        elif (self.fulfillment_type == "pickup") != self.is_pickup:
            raise ValueError(
                f"fulfillment_type {self.fulfillment_type!r} contradicts is_pickup={self.is_pickup}"
            )
        if not self.id.strip():
            raise ValueError("id must not be blank")
        return self

    def items(self):
        """(path, item) for every item, the path naming it as a refusal would."""
        for c, category in enumerate(self.categories):
            for i, item in enumerate(category.items):
                yield f"categories[{c}].items[{i}]", item
