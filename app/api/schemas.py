"""The order the customer app hands Passline: the guide's `POST /orders` body.

Only what Passline relies on is checked; every other field (tip, fees, address,
instructions, item options...) is kept as sent and forwarded to OneTablet unchanged."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import (BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator,
                      model_validator)

from ..infra.validation import Cents, IsoDateTime
from ..webhooks.paths import CANCELLATION_PATH, READY_PATH

WEBHOOK_SUFFIXES = (CANCELLATION_PATH, READY_PATH)


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
    price: Cents
    name: Optional[StrictStr] = Field(default=None, max_length=255)


class Category(Open):
    name: Optional[StrictStr] = Field(default=None, max_length=255)
    items: list[Item] = Field(min_length=1, max_length=500)


class NewOrder(Open):
    id: StrictStr = Field(min_length=1, max_length=255)
    store: StoreRef
    consumer: Consumer
    subtotal: Cents
    tax: Cents
    # Not Passline's, but added into the order's total: money like the others when sent.
    tip: Optional[Cents] = None
    delivery_fee: Optional[Cents] = None
    service_fee: Optional[Cents] = None
    # Either may be left out: it then follows the other (null is refused: not a boolean).
    is_pickup: StrictBool = Field(default=None, json_schema_extra={"default": False})
    fulfillment_type: Optional[Literal["pickup", "dx_delivery", "mx_fleet_delivery"]] = None
    estimated_pickup_time: Optional[IsoDateTime] = None
    categories: list[Category] = Field(min_length=1, max_length=100)

    @field_validator("id")
    @classmethod
    def _usable_id(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        # OneTablet's webhooks put the id in their path, and a server decodes %2F before
        # routing: PATCH /orders/x/cancellation would be order x's cancellation.
        if value.endswith(WEBHOOK_SUFFIXES):
            raise ValueError(f"must not end with {' or '.join(WEBHOOK_SUFFIXES)}: "
                             "OneTablet's webhook paths could not tell it apart")
        return value

    @field_validator("fulfillment_type")
    @classmethod
    def _agrees_with_is_pickup(cls, value, info):
        is_pickup = info.data.get("is_pickup")  # None: not sent (or refused already)
        if value is not None and is_pickup is not None and (value == "pickup") != is_pickup:
            raise ValueError(f"{value!r} contradicts is_pickup: {str(is_pickup).lower()}")
        return value

    @model_validator(mode="after")
    def _fulfillment(self):
        if self.fulfillment_type is None:
            self.fulfillment_type = "pickup" if self.is_pickup else "mx_fleet_delivery"
        if self.is_pickup is None:
            self.is_pickup = self.fulfillment_type == "pickup"
        return self

    def items(self):
        """(path, item) for every item, the path naming it as a refusal would."""
        for c, category in enumerate(self.categories):
            for i, item in enumerate(category.items):
                yield f"categories[{c}].items[{i}]", item
