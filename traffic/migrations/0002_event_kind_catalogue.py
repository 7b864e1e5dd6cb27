from django.db import migrations


def load_catalogue(apps, schema_editor):
    from traffic.catalogue import ensure_event_kinds

    ensure_event_kinds(apps.get_model("traffic", "EventKind"))


class Migration(migrations.Migration):
    dependencies = [("traffic", "0001_initial")]
    operations = [migrations.RunPython(load_catalogue, migrations.RunPython.noop)]
