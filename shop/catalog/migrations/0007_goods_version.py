"""A number that changes whenever the set of goods or their visibility does (PostgreSQL).

``catalog_goods_version.n`` takes a new number, in the writing transaction, at
every statement that inserts, deletes or truncates goods or sets ``is_active``;
the numbers come from a sequence, so a rolled-back write's number is never seen
again for another set. A tick, which only sets prices, leaves it alone. The goods list keeps its count
per version (shop.catalog.selectors.goods_page) instead of counting every goods
on every request. SQLite (embedded mode) gets the table without its row: no
version, so the list counts every time there.
"""

from django.db import migrations

FORWARD = """
CREATE SEQUENCE catalog_goods_version_seq;
CREATE TABLE catalog_goods_version (id smallint PRIMARY KEY CHECK (id = 1), n bigint NOT NULL);
INSERT INTO catalog_goods_version VALUES (1, nextval('catalog_goods_version_seq'));
CREATE FUNCTION catalog_goods_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_goods_version SET n = nextval('catalog_goods_version_seq') WHERE id = 1;
    RETURN NULL;
END $$;
CREATE TRIGGER goods_version_on_write AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF is_active
    ON catalog_goods FOR EACH STATEMENT EXECUTE FUNCTION catalog_goods_version_bump();
"""

BACKWARD = """
DROP TRIGGER goods_version_on_write ON catalog_goods;
DROP FUNCTION catalog_goods_version_bump();
DROP TABLE catalog_goods_version;
DROP SEQUENCE catalog_goods_version_seq;
"""


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(FORWARD)
        else:
            cursor.execute("CREATE TABLE catalog_goods_version (id smallint PRIMARY KEY, n bigint NOT NULL)")


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(BACKWARD if schema_editor.connection.vendor == "postgresql" else "DROP TABLE catalog_goods_version")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_price_goods_no_constraint")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
