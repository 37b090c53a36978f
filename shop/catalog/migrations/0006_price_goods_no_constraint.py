from django.db import migrations, models


class Migration(migrations.Migration):
    """State only: migration 0004 made catalog_price without the foreign key."""

    dependencies = [("catalog", "0005_goods_fillfactor")]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="price",
                    name="goods",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="prices",
                        to="catalog.goods",
                    ),
                )
            ]
        )
    ]
