"""factory_boy factories for the models clients and operators see."""

from decimal import Decimal

import factory

from catalog.models import Category, Product
from inventory.models import Inventory, Store
from ordering.models import Order, OrderItem


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    title = factory.Sequence(lambda n: f"Product {n}")
    description = "A product."
    price = Decimal("10.00")
    category = factory.SubFactory(CategoryFactory)


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    name = factory.Sequence(lambda n: f"Store {n}")


class InventoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Inventory

    store = factory.SubFactory(StoreFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 10


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    store = factory.SubFactory(StoreFactory)
    status = Order.Status.CONFIRMED


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity_requested = 1
    unit_price = factory.SelfAttribute("product.price")
