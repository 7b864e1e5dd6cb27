"""Fewer indexes on camera events: camera and kind are read through their (…, occurred_at) indexes,
the incident through a partial index of the events folded into one."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ioc', '0006_unit_boundary_source'),
        ('traffic', '0004_partition_camera_events'),
    ]

    operations = [
        migrations.AlterField(
            model_name='cameraevent',
            name='camera',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='traffic.camera'),
        ),
        migrations.AlterField(
            model_name='cameraevent',
            name='incident',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='events', to='traffic.incident'),
        ),
        migrations.AlterField(
            model_name='cameraevent',
            name='kind',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='traffic.eventkind'),
        ),
        migrations.AddIndex(
            model_name='cameraevent',
            index=models.Index(condition=models.Q(('incident__isnull', False)), fields=['incident'], name='camera_event_incident'),
        ),
    ]
