"""Drop two single-column foreign-key indexes that composite ones already cover.

`order_store_newest_idx` leads with the store and the (order, product) unique constraint with
the order. As in inventory 0002, only the indexes go (CONCURRENTLY); the constraints stay.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "ordering_order_store_id_a8fea7e1": ("ordering_order", "store_id"),
    "ordering_orderitem_order_id_050e4dc5": ("ordering_orderitem", "order_id"),
}


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("inventory", "0002_drop_redundant_fk_indexes"),
        ("ordering", "0002_idempotencyrecord_and_more"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="orders",
                        to="inventory.store",
                    ),
                ),
                migrations.AlterField(
                    model_name="orderitem",
                    name="order",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="items",
                        to="ordering.order",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}"'
                    f' ON "{table}" ("{column}")',
                )
                for name, (table, column) in INDEXES.items()
            ],
        ),
    ]
