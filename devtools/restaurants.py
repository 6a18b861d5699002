"""The demo's restaurants, as OneTablet knows them: stores, their timezones and menus.
The simulator pushes these menus to Passline and plays these kitchens; the demo's order
generator orders from them. Prices are integer cents."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Restaurant:
    merchant_supplied_id: str
    name: str
    timezone: str
    categories: list  # [{name, items: [{merchant_supplied_id, name, price}]}], as PUT .../menu takes it
    prep_minutes: tuple[float, float] = (8, 22)  # how long this kitchen usually takes

    def items(self) -> list[dict]:
        return [item for category in self.categories for item in category["items"]]


def _menu(prefix: str, categories: dict[str, list[tuple[str, int]]]) -> list[dict]:
    menu, number = [], 0
    for category, entries in categories.items():
        items = []
        for name, price in entries:
            number += 1
            items.append({"merchant_supplied_id": f"{prefix}-{number:03d}", "name": name, "price": price})
        menu.append({"name": category, "items": items})
    return menu


RESTAURANTS = [
    Restaurant("bk-smash-01", "Smash Bros. Burgers — Williamsburg", "America/New_York", _menu("smash", {
        "Burgers": [("Double Smash", 1395), ("Classic Cheeseburger", 1195), ("Mushroom Swiss", 1295),
                    ("Beyond Smash (plant-based)", 1450)],
        "Sides": [("Crinkle Fries", 495), ("Onion Rings", 595), ("Tots with Ranch", 545)],
        "Shakes & Drinks": [("Black & White Shake", 695), ("Mexican Coke", 375), ("Lemonade", 395)],
    }), prep_minutes=(6, 15)),
    Restaurant("chi-taqueria-02", "La Esquina Taqueria — Pilsen", "America/Chicago", _menu("taq", {
        "Tacos": [("Al Pastor", 425), ("Carne Asada", 450), ("Baja Fish", 475), ("Hongos (mushroom)", 400)],
        "Burritos & Bowls": [("Carnitas Burrito", 1295), ("Chicken Tinga Bowl", 1250)],
        "Sides": [("Chips & Guacamole", 695), ("Elote", 525), ("Horchata", 425)],
    }), prep_minutes=(8, 18)),
    Restaurant("sf-pho-03", "Pho Saigon Noodle House — Inner Sunset", "America/Los_Angeles", _menu("pho", {
        "Pho": [("Pho Tai (rare beef)", 1595), ("Pho Ga (chicken)", 1495), ("Vegetable Pho", 1395)],
        "Banh Mi": [("Grilled Pork Banh Mi", 1095), ("Lemongrass Tofu Banh Mi", 995)],
        "Starters": [("Fresh Spring Rolls", 795), ("Crispy Imperial Rolls", 850), ("Thai Iced Tea", 525)],
    }), prep_minutes=(10, 20)),
    Restaurant("ldn-curry-04", "Brick Lane Curry Co.", "Europe/London", _menu("curry", {
        "Curries": [("Chicken Tikka Masala", 1450), ("Lamb Rogan Josh", 1595), ("Chana Masala", 1195),
                    ("Saag Paneer", 1250)],
        "Breads & Rice": [("Garlic Naan", 395), ("Peshwari Naan", 425), ("Pilau Rice", 375)],
        "Extras": [("Onion Bhaji", 550), ("Mango Lassi", 450)],
    }), prep_minutes=(12, 25)),
    Restaurant("den-pizza-05", "Mile High Pizza Kitchen", "America/Denver", _menu("pizza", {
        "Pizzas": [("Margherita 12\"", 1600), ("Pepperoni 12\"", 1750), ("Green Chile & Sausage 12\"", 1895)],
        "Salads": [("Caesar", 995), ("Arugula & Pear", 1095)],
        "Desserts & Drinks": [("Tiramisu", 795), ("San Pellegrino", 325)],
    }), prep_minutes=(12, 22)),
]

BY_ID = {r.merchant_supplied_id: r for r in RESTAURANTS}
