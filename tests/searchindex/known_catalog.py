"""A small, known catalog for the search and suggest tests, built with the factories."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from catalog.models import Category, Product
from inventory.models import Store
from tests.factories import CategoryFactory, InventoryFactory, ProductFactory, StoreFactory

START = datetime(2026, 1, 1, tzinfo=UTC)

# title, category slug, price, description; created one day apart in this order.
PRODUCTS = [
    ("Milk", "dairy", "50.00", "Fresh cow milk, pasteurised"),
    ("Almond Milk", "dairy", "120.00", "Plant-based drink"),
    ("Milkshake Mix", "beverages", "80.00", "Chocolate flavour powder"),
    ("Chocolate Bar", "snacks", "40.00", "Dark chocolate made with milk solids"),
    ("Green Tea Blend", "beverages", "250.00", "Loose leaf, light and grassy"),
    ("Masala Chai", "beverages", "199.99", "Spiced black tea blends from Assam"),
    ("Greek Yogurt", "dairy", "90.00", "Thick and creamy"),
    ("Sourdough Bread", "bakery", "30.00", "Baked every morning"),
    ("Milk Bread", "bakery", "45.00", "Soft sandwich loaf"),
    ("Potato Chips", "snacks", "20.00", "Salted and crunchy"),
    ("Coffee Beans", "beverages", "500.00", "Arabica, medium roast"),
    ("Butter Cookies", "bakery", "100.00", "Crisp and buttery"),
]
# title -> brand; the rest have none.
BRANDS = {
    "Milk": "Amul",
    "Greek Yogurt": "Amul",
    "Chocolate Bar": "Amul",
    "Milk Bread": "Britannia",
    "Butter Cookies": "Britannia",
    "Potato Chips": "Lay's",
    "Masala Chai": "Tata Tea",
}
CATEGORIES = {
    "dairy": "Dairy",
    "beverages": "Beverages",
    "snacks": "Snacks",
    "bakery": "Bakery",
    "frozen": "Frozen Foods",  # no products
}
# store key -> {title: quantity}; a 0 row means "stocked before, sold out now".
STOCK = {
    "north": {"Milk": 7, "Almond Milk": 3, "Sourdough Bread": 0, "Green Tea Blend": 5},
    "south": {"Milk": 2, "Potato Chips": 10, "Masala Chai": 1},
    "empty": {},
}


@dataclass
class KnownCatalog:
    categories: dict[str, Category]
    products: dict[str, Product]
    stores: dict[str, Store]

    def ids(self, *titles: str) -> list[int]:
        return [self.products[title].id for title in titles]

    def title_of(self, product_id: int) -> str:
        return next(title for title, product in self.products.items() if product.id == product_id)


def build_known_catalog() -> KnownCatalog:
    categories = {slug: CategoryFactory(name=name, slug=slug) for slug, name in CATEGORIES.items()}
    products = {
        title: ProductFactory(
            title=title,
            category=categories[slug],
            price=Decimal(price),
            description=description,
            brand=BRANDS.get(title, ""),
            created_at=START + timedelta(days=day),
        )
        for day, (title, slug, price, description) in enumerate(PRODUCTS)
    }
    stores = {name: StoreFactory(name=f"{name.title()} store") for name in STOCK}
    for name, stock in STOCK.items():
        for title, quantity in stock.items():
            InventoryFactory(store=stores[name], product=products[title], quantity=quantity)
    return KnownCatalog(categories=categories, products=products, stores=stores)
