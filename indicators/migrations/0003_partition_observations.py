"""Observations partitioned by month of period_start, keeping their rows and ids (ioc.partitions.convert):
partitions for the months of the existing observations, the last 24 and 3 ahead, plus DEFAULT. The
history of replaced values keeps its column but no database foreign key (a partitioned table is
referenced only through a key holding its partition key). Daily roll-ups kept after retention."""

import django.db.models.deletion
from django.db import migrations, models

from ioc import partitions


def partition(apps, schema_editor):
    partitions.convert(schema_editor, "indicators_observation", "period_start", months_back=24, months_ahead=3)


class Migration(migrations.Migration):

    dependencies = [
        ('indicators', '0002_indicator_subsystems'),
        ('ioc', '0006_unit_boundary_source'),
    ]

    operations = [
        migrations.AlterField(
            model_name='observationrevision',
            name='observation',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='history', to='indicators.observation'),
        ),
        migrations.RunPython(partition, migrations.RunPython.noop, elidable=False),
        migrations.CreateModel(
            name='ObservationDaily',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('count', models.PositiveIntegerField(verbose_name='observations')),
                ('minimum', models.DecimalField(decimal_places=4, max_digits=18, verbose_name='minimum')),
                ('maximum', models.DecimalField(decimal_places=4, max_digits=18, verbose_name='maximum')),
                ('total', models.DecimalField(decimal_places=4, max_digits=24)),
                ('last', models.DecimalField(decimal_places=4, max_digits=18, verbose_name='last value')),
                ('last_period_start', models.DateTimeField()),
                ('indicator', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='indicators.indicator')),
                ('station', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='indicators.station')),
                ('unit', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='ioc.unit')),
            ],
            options={
                'verbose_name': 'observations of a day',
                'verbose_name_plural': 'observations by day',
                'ordering': ['-day'],
                'constraints': [models.UniqueConstraint(fields=('indicator', 'unit', 'station', 'day'), name='observation_daily_once', nulls_distinct=False)],
            },
        ),
    ]
