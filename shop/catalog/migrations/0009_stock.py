"""Stock (SPEC §13): ``stock`` (None: not tracked) and ``reserved``, neither ever negative.

SQLite rebuilds ``catalog_goods`` for the NOT NULL column and the constraints, which drops the
table's row-version trigger (migration 0008): it is made again here.
"""

import importlib

from django.db import migrations, models

row_versions = importlib.import_module("shop.catalog.migrations.0008_row_versions")
GOODS_TRIGGER_SQLITE = row_versions.SQLITE[0]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0008_row_versions")]

    operations = [
        migrations.AddField(
            model_name="goods",
            name="reserved",
            field=models.IntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.AddField(model_name="goods", name="stock", field=models.IntegerField(blank=True, null=True)),
        migrations.AddConstraint(
            model_name="goods",
            constraint=models.CheckConstraint(condition=models.Q(stock__gte=0), name="goods_stock_not_negative"),
        ),
        migrations.AddConstraint(
            model_name="goods",
            constraint=models.CheckConstraint(
                condition=models.Q(reserved__gte=0), name="goods_reserved_not_negative"
            ),
        ),
        row_versions.RunSQLByVendor(
            forward={"postgresql": [], "sqlite": ["DROP TRIGGER IF EXISTS goods_row_version", GOODS_TRIGGER_SQLITE]},
            backward={"postgresql": [], "sqlite": []},
        ),
    ]
