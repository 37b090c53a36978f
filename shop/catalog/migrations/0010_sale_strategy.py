"""Pricing strategies (SPEC §14): a sale's ``strategy`` and its parameters, uniform by default.

SQLite rebuilds ``catalog_sale`` for the new NOT NULL columns and constraints, which drops the
table's row-version trigger (migration 0008): it is made again here.
"""

import importlib
from decimal import Decimal

from django.db import migrations, models

row_versions = importlib.import_module("shop.catalog.migrations.0008_row_versions")
SALE_TRIGGER_SQLITE = row_versions.SQLITE[1]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0009_stock")]

    operations = [
        migrations.AddField(
            model_name="sale",
            name="step_percent",
            field=models.DecimalField(decimal_places=2, default=Decimal("2"), max_digits=5),
        ),
        migrations.AddField(
            model_name="sale",
            name="strategy",
            field=models.CharField(
                choices=[("uniform", "uniform"), ("walk", "walk"), ("demand", "demand")],
                default="uniform",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="sale", name="target_units", field=models.PositiveIntegerField(default=1)
        ),
        migrations.AddField(
            model_name="sale", name="window_seconds", field=models.PositiveIntegerField(default=300)
        ),
        migrations.AddConstraint(
            model_name="sale",
            constraint=models.CheckConstraint(
                condition=models.Q(step_percent__gt=0, step_percent__lte=Decimal("50")),
                name="sale_step_percent",
            ),
        ),
        migrations.AddConstraint(
            model_name="sale",
            constraint=models.CheckConstraint(
                condition=models.Q(window_seconds__gte=1, window_seconds__lte=604800),
                name="sale_window_seconds",
            ),
        ),
        row_versions.RunSQLByVendor(
            forward={
                "postgresql": [],
                "sqlite": ["DROP TRIGGER IF EXISTS sale_row_version", SALE_TRIGGER_SQLITE],
            },
            backward={"postgresql": [], "sqlite": []},
        ),
    ]
