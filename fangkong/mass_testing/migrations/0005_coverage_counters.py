"""Coverage kept as counters: the open-member table becomes the round's member table (one row
per person sampled in a round, kept after the tube closes), tubes know their members' grid,
progress rows are unique per hour and node, and the lab lines' problem index is partial."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mass_testing', '0004_sample_checked_by_the_ingest'),
        ('people', '0002_person_note'),
        ('jurisdictions', '0001_initial'),
    ]

    operations = [
        migrations.RenameModel(old_name='OpenMember', new_name='RoundMember'),
        # Checked by the ingest (as the sample's are), no index repeating the unique one's lead.
        migrations.AlterField(
            model_name='roundmember',
            name='person',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='people.person'),
        ),
        migrations.AlterField(
            model_name='roundmember',
            name='round',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='mass_testing.round'),
        ),
        migrations.AlterField(
            model_name='roundmember',
            name='tube',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='mass_testing.tube'),
        ),
        migrations.AddField(
            model_name='roundmember',
            name='grid_id',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='roundmember',
            name='repeat',
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name='roundmember',
            index=models.Index(condition=models.Q(('repeat', True)), fields=['round'], name='mtmember_repeat_idx'),
        ),
        migrations.AddField(
            model_name='tube',
            name='grids_mixed',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='tube',
            name='member_grid',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RemoveIndex(model_name='labreport', name='mtlabreport_outcome_idx'),
        migrations.AlterField(
            model_name='labreport',
            name='tube',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='mass_testing.tube'),
        ),
        # The not-yet-sampled list reads the member table: no index of samples by grid.
        migrations.RemoveIndex(model_name='sample', name='mtsample_round_grid_idx'),
        migrations.AlterField(
            model_name='sample',
            name='grid',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='jurisdictions.jurisdiction'),
        ),
        migrations.AlterField(
            model_name='sample',
            name='site',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, to='mass_testing.site'),
        ),
        migrations.RemoveIndex(model_name='labreport', name='mtlabreport_barcode_idx'),
        migrations.AddIndex(
            model_name='labreport',
            index=models.Index(condition=models.Q(('outcome__in', ['unknown_tube', 'conflict'])), fields=['-received_at'], name='mtlabreport_problem_idx'),
        ),
        migrations.RemoveIndex(model_name='progress', name='mtprogress_round_hour_idx'),
        migrations.AddConstraint(
            model_name='progress',
            constraint=models.UniqueConstraint(fields=('round', 'hour', 'jurisdiction_path'), name='mtprogress_round_hour_path'),
        ),
        # A database from before: every person sampled in a round gets their row (latest tube,
        # first sample's grid, sampled again or not), and every tube its members' grid.
        migrations.RunSQL(
            "DELETE FROM mass_testing_roundmember",
            migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            "INSERT INTO mass_testing_roundmember (round_id, person_id, tube_id, grid_id, repeat) "
            "SELECT s.round_id, s.person_id, MAX(s.tube_id), "
            "(SELECT s2.grid_id FROM mass_testing_sample s2 WHERE s2.round_id = s.round_id "
            "AND s2.person_id = s.person_id ORDER BY s2.sampled_at, s2.id LIMIT 1), "
            "COUNT(*) > 1 FROM mass_testing_sample s GROUP BY s.round_id, s.person_id",
            migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            "UPDATE mass_testing_tube SET "
            "member_grid = (SELECT CASE WHEN COUNT(DISTINCT s.grid_id) = 1 "
            "AND COUNT(s.grid_id) = COUNT(*) THEN MIN(s.grid_id) END "
            "FROM mass_testing_sample s WHERE s.tube_id = mass_testing_tube.id), "
            "grids_mixed = (SELECT COUNT(DISTINCT s.grid_id) > 1 OR "
            "(COUNT(s.grid_id) > 0 AND COUNT(s.grid_id) < COUNT(*)) "
            "FROM mass_testing_sample s WHERE s.tube_id = mass_testing_tube.id)",
            migrations.RunSQL.noop,
        ),
    ]
