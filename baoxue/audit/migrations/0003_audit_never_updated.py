"""The audit trail is never edited: the database itself refuses an UPDATE of its rows."""

from django.db import migrations

SQLITE = """
CREATE TRIGGER audit_auditentry_never_updated BEFORE UPDATE ON audit_auditentry
BEGIN SELECT RAISE(ABORT, '操作日志不能修改'); END;
"""
POSTGRES = """
CREATE OR REPLACE FUNCTION audit_auditentry_never_updated() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION '操作日志不能修改'; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_auditentry_never_updated BEFORE UPDATE ON audit_auditentry
FOR EACH ROW EXECUTE FUNCTION audit_auditentry_never_updated();
"""


def forwards(apps, schema_editor):
    sql = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    schema_editor.execute(sql)


def backwards(apps, schema_editor):
    schema_editor.execute("DROP TRIGGER IF EXISTS audit_auditentry_never_updated"
                          + (" ON audit_auditentry" if schema_editor.connection.vendor == "postgresql" else ""))


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_view_action")]
    operations = [migrations.RunPython(forwards, backwards)]
