"""factory_boy factories for the models clients and operators see."""

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import factory
from django.db.models import Model

from catalog.models import Category, Product
from inventory.models import Inventory, Store
from ordering.models import Order, OrderItem

M = TypeVar("M", bound=Model)


class ModelFactory(factory.django.DjangoModelFactory[M]):
    """A Django factory whose call mypy knows returns the model instance."""

    if TYPE_CHECKING:
        # factory_boy's metaclass __call__ returns the created model but is untyped, so mypy
        # would take `ProductFactory()` for a factory instance; this says what it returns.
        def __new__(cls, **kwargs: Any) -> M:  # type: ignore[misc]  # not a subclass, on purpose
            ...


class CategoryFactory(ModelFactory[Category]):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(ModelFactory[Product]):
    class Meta:
        model = Product

    title = factory.Sequence(lambda n: f"Product {n}")
    description = "A product."
    price = Decimal("10.00")
    category = factory.SubFactory(CategoryFactory)


class StoreFactory(ModelFactory[Store]):
    class Meta:
        model = Store

    name = factory.Sequence(lambda n: f"Store {n}")


class InventoryFactory(ModelFactory[Inventory]):
    class Meta:
        model = Inventory

    store = factory.SubFactory(StoreFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 10


class OrderFactory(ModelFactory[Order]):
    class Meta:
        model = Order

    store = factory.SubFactory(StoreFactory)
    status = Order.Status.CONFIRMED


class OrderItemFactory(ModelFactory[OrderItem]):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity_requested = 1
    unit_price = factory.SelfAttribute("product.price")
