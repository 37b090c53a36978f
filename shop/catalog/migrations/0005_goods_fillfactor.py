"""Room in each page of catalog_goods for a new row version, so that every
tick's update of the current prices is a HOT update (no index writes)."""

from django.db import migrations


def fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE catalog_goods SET (fillfactor = 50)")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_partition_price_history")]
    operations = [migrations.RunPython(fillfactor, migrations.RunPython.noop, elidable=False)]
