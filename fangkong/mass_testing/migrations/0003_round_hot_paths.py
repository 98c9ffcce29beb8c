"""The round's whole-city paths: tubes take their results as HOT updates (no index reads
`result`; PostgreSQL keeps half of each page free for the new row versions), and the samples'
(round, person) index covers the coverage rebuild (tube and time included)."""

from typing import Any

from django.db import migrations, models


def _fillfactor(value: int) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE mass_testing_tube SET (fillfactor = {value})")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("mass_testing", "0002_open_member"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="tube", name="mttube_round_result_idx"),
        migrations.RemoveIndex(model_name="sample", name="mtsample_round_person_idx"),
        migrations.AddIndex(
            model_name="sample",
            index=models.Index(
                fields=["round", "person", "tube", "sampled_at"], name="mtsample_round_person_cov"
            ),
        ),
        migrations.RunPython(_fillfactor(50), _fillfactor(100)),
    ]
