"""Price history becomes a table partitioned by day in PostgreSQL (SPEC §10).

Django keeps seeing one ``catalog_price`` table with an ``id`` key; PostgreSQL
holds it as daily partitions with the key (id, created_at), which retention can
drop whole. SQLite (embedded mode) keeps the plain table.

No foreign key to goods: prices are written only by
shop.catalog.services.prices, which locks the goods rows first, and a
per-row check at each commit would cost a 100,000-goods tick a second.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE catalog_price RENAME TO catalog_price_unpartitioned;
ALTER INDEX price_goods_newest RENAME TO price_goods_newest_unpartitioned;
ALTER INDEX price_newest RENAME TO price_newest_unpartitioned;
CREATE SEQUENCE catalog_price_history_id_seq;
CREATE TABLE catalog_price (
    id bigint NOT NULL DEFAULT nextval('catalog_price_history_id_seq'),
    goods_id bigint NOT NULL,
    amount numeric(12, 2) NOT NULL CONSTRAINT price_positive CHECK (amount > 0),
    created_at timestamp with time zone NOT NULL,
    source varchar(16) NOT NULL,
    sale_id bigint NULL,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
ALTER SEQUENCE catalog_price_history_id_seq OWNED BY catalog_price.id;
CREATE TABLE catalog_price_default PARTITION OF catalog_price DEFAULT;
CREATE INDEX price_goods_newest ON catalog_price (goods_id, created_at DESC, id DESC);
CREATE INDEX price_newest ON catalog_price (created_at DESC, id DESC);
"""

COPY_AND_DROP = """
INSERT INTO catalog_price (id, goods_id, amount, created_at, source, sale_id)
SELECT id, goods_id, amount, created_at, source, sale_id FROM catalog_price_unpartitioned;
SELECT setval('catalog_price_history_id_seq', (SELECT coalesce(max(id), 0) + 1 FROM catalog_price), false);
DROP TABLE catalog_price_unpartitioned;
"""


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from shop.catalog.services.history import price_partitions_ensure

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FORWARD)
        cursor.execute("SELECT min(created_at) FROM catalog_price_unpartitioned")
        oldest = cursor.fetchone()[0]
    price_partitions_ensure(since=oldest.date() if oldest else None)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(COPY_AND_DROP)


class Migration(migrations.Migration):
    atomic = True
    dependencies = [("catalog", "0003_price_candle")]
    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
