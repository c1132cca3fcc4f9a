from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("sandbox", "0001_initial")]

    operations = [
        migrations.RemoveConstraint(model_name="session", name="unique_order_per_account"),
    ]
