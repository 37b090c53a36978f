"""Row versions kept by the database, for the representations rendered from the rows.

``catalog_goods.version`` and ``catalog_sale.version`` move on at every UPDATE of their row,
whoever writes it and whatever columns it sets: a trigger adds one unless the statement itself
moved the version on (the price store's writes do, sparing a 100,000-goods tick a function call
per row; a statement that sets it back or leaves it gets the trigger's). So a (row id, version)
names one committed state of the row, and a cache keyed by it cannot miss a change of any
column, however many are added later.

``catalog_price`` is append-only, as SPEC §4 says: the database refuses an UPDATE, so a price's
id names its whole row. (Retention drops whole partitions; deleting goods deletes their prices.)

Both vendors get the triggers: PostgreSQL, and SQLite for embedded mode. SQLite drops a table's
triggers when Django rebuilds the table (some ALTERs on SQLite do): a later migration that
alters these tables must create them again (catalog/tests/test_store.py fails otherwise).
"""

from django.db import migrations, models, router

POSTGRESQL = [
    """
    CREATE FUNCTION catalog_row_version_next() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.version := OLD.version + 1;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER goods_row_version BEFORE UPDATE ON catalog_goods
        FOR EACH ROW WHEN (NEW.version <= OLD.version) EXECUTE FUNCTION catalog_row_version_next()
    """,
    """
    CREATE TRIGGER sale_row_version BEFORE UPDATE ON catalog_sale
        FOR EACH ROW WHEN (NEW.version <= OLD.version) EXECUTE FUNCTION catalog_row_version_next()
    """,
    """
    CREATE FUNCTION catalog_price_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'catalog_price is append-only: a price is never changed'
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
    """
    CREATE TRIGGER price_append_only BEFORE UPDATE ON catalog_price
        FOR EACH ROW EXECUTE FUNCTION catalog_price_append_only()
    """,
]
POSTGRESQL_BACKWARD = [
    "DROP TRIGGER price_append_only ON catalog_price",
    "DROP FUNCTION catalog_price_append_only()",
    "DROP TRIGGER sale_row_version ON catalog_sale",
    "DROP TRIGGER goods_row_version ON catalog_goods",
    "DROP FUNCTION catalog_row_version_next()",
]

# SQLite's triggers cannot change NEW: an AFTER trigger updates the row again (that UPDATE does
# not fire triggers itself: recursive triggers are off, and its WHEN would not hold anyway).
SQLITE = [
    """
    CREATE TRIGGER goods_row_version AFTER UPDATE ON catalog_goods
    FOR EACH ROW WHEN NEW.version <= OLD.version
    BEGIN
        UPDATE catalog_goods SET version = OLD.version + 1 WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER sale_row_version AFTER UPDATE ON catalog_sale
    FOR EACH ROW WHEN NEW.version <= OLD.version
    BEGIN
        UPDATE catalog_sale SET version = OLD.version + 1 WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER price_append_only BEFORE UPDATE ON catalog_price
    BEGIN
        SELECT RAISE(ABORT, 'catalog_price is append-only: a price is never changed');
    END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER price_append_only",
    "DROP TRIGGER sale_row_version",
    "DROP TRIGGER goods_row_version",
]


class RunSQLByVendor(migrations.RunSQL):
    """RunSQL with statements per database vendor."""

    def __init__(self, forward: dict[str, list[str]], backward: dict[str, list[str]]) -> None:
        super().__init__(sql=forward["postgresql"], reverse_sql=backward["postgresql"], elidable=False)
        self.forward, self.backward = forward, backward

    def deconstruct(self):
        return self.__class__.__name__, [], {"forward": self.forward, "backward": self.backward}

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if router.allow_migrate(schema_editor.connection.alias, app_label, **self.hints):
            self._run_sql(schema_editor, self.forward[schema_editor.connection.vendor])

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if router.allow_migrate(schema_editor.connection.alias, app_label, **self.hints):
            self._run_sql(schema_editor, self.backward[schema_editor.connection.vendor])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0007_goods_version")]
    operations = [
        migrations.AddField(
            model_name="goods", name="version", field=models.BigIntegerField(default=1, db_default=1, editable=False)
        ),
        migrations.AddField(
            model_name="sale", name="version", field=models.BigIntegerField(default=1, db_default=1, editable=False)
        ),
        RunSQLByVendor(
            forward={"postgresql": POSTGRESQL, "sqlite": SQLITE},
            backward={"postgresql": POSTGRESQL_BACKWARD, "sqlite": SQLITE_BACKWARD},
        ),
    ]
