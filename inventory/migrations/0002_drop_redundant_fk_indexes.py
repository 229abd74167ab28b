"""Drop the single-column indexes Django made for the two foreign keys.

The composite indexes (store, product) and (product, store) already lead with each column, so
these only slowed every stock write. Only the indexes go: the foreign-key constraints stay as
they are (AlterField alone would drop and re-validate them under a table lock), and the drop is
CONCURRENTLY so stock writes carry on while it runs.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "inventory_inventory_product_id_5b835926": "product_id",
    "inventory_inventory_store_id_9f29bc82": "store_id",
}


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("catalog", "0001_initial"),
        ("inventory", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="inventory",
                    name="product",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="inventory",
                        to="catalog.product",
                    ),
                ),
                migrations.AlterField(
                    model_name="inventory",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="inventory",
                        to="inventory.store",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}"'
                    f' ON "inventory_inventory" ("{column}")',
                )
                for name, column in INDEXES.items()
            ],
        ),
    ]
