from django.core.management.base import BaseCommand

from ioc.demo import DEMO_USERS, load_demo_city


class Command(BaseCommand):
    help = "Load the demo city (Đồng Nai): units, departments, roles and demo users. Idempotent."

    def handle(self, *args, **options):
        result = load_demo_city()
        created = ", ".join(result["users_created"]) or "none (already there)"
        self.stdout.write(f"Demo city ready: {result['units']} units; users created: {created}.")
        self.stdout.write("Demo logins: " + ", ".join(u[0] for u in DEMO_USERS))
