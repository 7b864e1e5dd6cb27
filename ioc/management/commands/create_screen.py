from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ioc.models import Unit
from ioc.services import screen_create


class Command(BaseCommand):
    help = (
        "Create a wall screen account (role 'screen'): it opens only the wall, for its unit, and stays signed "
        "in (IOC_SCREEN_SESSION_DAYS, renewed while in use). Prints the password when one is generated."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Username of the screen, e.g. wall-hall-1.")
        parser.add_argument("--unit", required=True, help="Official code of the unit whose wall it shows, e.g. 75.")
        parser.add_argument("--password", help="Its password; without one, a random password is generated and printed.")
        parser.add_argument("--label", default="", help="A readable name (shown in the admin), e.g. 'Hall wall, left'.")

    def handle(self, *args, name, unit, password, label, **options):
        unit_obj = Unit.objects.filter(code=unit).first()
        if unit_obj is None:
            raise CommandError(f"No unit with code {unit!r}.")
        try:
            user, plain = screen_create(username=name, unit=unit_obj, password=password, first_name=label)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stderr.write(f"Wall screen {user.username!r} for {unit_obj.name} ({unit_obj.code}).")
        if password is None:
            self.stderr.write("Its generated password, shown once (sign in with it on the screen's browser):")
            self.stdout.write(plain)
