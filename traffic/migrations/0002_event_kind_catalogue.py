from django.db import migrations


def load_catalogue(apps, schema_editor):
    from traffic.catalogue import EVENT_KINDS

    EventKind = apps.get_model("traffic", "EventKind")
    for code, purpose, name, name_en, severity, violation in EVENT_KINDS:
        EventKind.objects.get_or_create(
            code=code,
            defaults={"purpose": purpose, "name": name, "name_en": name_en, "severity": severity,
                      "is_violation": violation},
        )


class Migration(migrations.Migration):
    dependencies = [("traffic", "0001_initial")]
    operations = [migrations.RunPython(load_catalogue, migrations.RunPython.noop)]
