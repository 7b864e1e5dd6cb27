"""Camera events partitioned by month of occurred_at, keeping their rows and ids (ioc.partitions.convert):
partitions for the months of the existing events, the last 24 and 3 ahead, plus DEFAULT. The unique
key of a vendor's event takes occurred_at too (PostgreSQL wants the partition key in every unique key).
Daily roll-ups kept after retention drops a month."""

import django.db.models.deletion
from django.db import migrations, models

from ioc import partitions


def partition(apps, schema_editor):
    partitions.convert(schema_editor, "traffic_cameraevent", "occurred_at", months_back=24, months_ahead=3)


class Migration(migrations.Migration):

    dependencies = [
        ('ioc', '0006_unit_boundary_source'),
        ('traffic', '0003_event_clip_url'),
    ]

    operations = [
        migrations.CreateModel(
            name='CameraEventDaily',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('count', models.PositiveIntegerField(verbose_name='events')),
                ('vehicles', models.BigIntegerField(default=0, verbose_name='vehicles')),
                ('speed_sum', models.FloatField(default=0)),
                ('speed_count', models.PositiveIntegerField(default=0)),
                ('speed_max', models.FloatField(blank=True, null=True)),
                ('plates', models.PositiveIntegerField(default=0, verbose_name='events with a plate')),
                ('first_at', models.DateTimeField()),
                ('last_at', models.DateTimeField()),
            ],
            options={
                'verbose_name': 'camera events of a day',
                'verbose_name_plural': 'camera events by day',
                'ordering': ['-day'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='cameraevent',
            name='camera_event_once_per_source',
        ),
        migrations.RunPython(partition, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name='cameraevent',
            constraint=models.UniqueConstraint(condition=models.Q(('external_id', ''), _negated=True), fields=('source', 'external_id', 'occurred_at'), name='camera_event_once_per_source_time'),
        ),
        migrations.AddField(
            model_name='cameraeventdaily',
            name='camera',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='traffic.camera'),
        ),
        migrations.AddField(
            model_name='cameraeventdaily',
            name='kind',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='traffic.eventkind'),
        ),
        migrations.AddField(
            model_name='cameraeventdaily',
            name='unit',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='ioc.unit'),
        ),
        migrations.AddIndex(
            model_name='cameraeventdaily',
            index=models.Index(fields=['unit', 'day'], name='camera_event_daily_unit_day'),
        ),
        migrations.AddConstraint(
            model_name='cameraeventdaily',
            constraint=models.UniqueConstraint(fields=('day', 'camera', 'kind'), name='camera_event_daily_once'),
        ),
    ]
