from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ioc.models import Unit
from ioc.services import API_KEY_SCOPES, api_key_create


class Command(BaseCommand):
    help = "Create an API key for a machine and print it once. Scopes: " + ", ".join(sorted(API_KEY_SCOPES))

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--scope", action="append", required=True, help="Allowed action; repeat or comma-separate.")
        parser.add_argument("--unit", required=True, help="Official code of the unit the key acts for.")

    def handle(self, *args, name, scope, unit, **options):
        unit_obj = Unit.objects.filter(code=unit).first()
        if unit_obj is None:
            raise CommandError(f"No unit with code {unit!r}.")
        scopes = [s.strip() for item in scope for s in item.split(",") if s.strip()]
        try:
            key, plain = api_key_create(name=name, scopes=scopes, unit=unit_obj)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stderr.write(f"API key {key.name!r} for {unit_obj.name} ({', '.join(key.scopes)}). Shown once:")
        self.stdout.write(plain)
