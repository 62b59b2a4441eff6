"""polls.Ballot is now PollAnswer: the pages already say "answer", and elections.Ballot (a
secret vote) kept the old name busy. Renamed in place: the table, its rows and their ids stay."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0002_formatting_help_in_plain_words"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="ballot",
            name="one_ballot_per_member_per_poll",
        ),
        migrations.RenameModel(old_name="Ballot", new_name="PollAnswer"),
        migrations.AlterField(
            model_name="pollanswer",
            name="poll",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="answers",
                to="polls.poll",
            ),
        ),
        migrations.AlterField(
            model_name="pollanswer",
            name="practitioner",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="poll_answers",
                to="accounts.practitioner",
            ),
        ),
        migrations.AddConstraint(
            model_name="pollanswer",
            constraint=models.UniqueConstraint(
                fields=("poll", "practitioner"), name="one_answer_per_member_per_poll"
            ),
        ),
    ]
