from django.core.management.base import BaseCommand, CommandError

from ioc.units import load_units, units_from_data_file, units_from_package


class Command(BaseCommand):
    help = "Import a province and its communes/wards by official code (from vietnam-provinces, else the shipped file)."

    def add_arguments(self, parser):
        parser.add_argument("--province", required=True, help="Official province code, e.g. 75 for Đồng Nai.")
        parser.add_argument("--from-file", action="store_true", help="Use the data file shipped in ioc/data/.")

    def handle(self, *args, province, from_file, **options):
        if not province.isdigit():
            raise CommandError(f"--province must be an official numeric code, got {province!r}")
        rows, source = None, None
        if not from_file:
            try:
                rows, source = units_from_package(province), "vietnam-provinces"
            except ImportError:
                self.stdout.write("vietnam-provinces is not installed; using the shipped data file.")
            except ValueError as exc:
                raise CommandError(f"Unknown province code {province}: {exc}") from None
        if rows is None:
            try:
                rows, source = units_from_data_file(province), "ioc/data"
            except FileNotFoundError:
                raise CommandError(
                    f"No data file for province {province}; install vietnam-provinces "
                    "(pip install vietnam-provinces) to import it."
                ) from None
        count = load_units(rows)
        self.stdout.write(self.style.SUCCESS(f"{count} units of province {province} loaded from {source}."))
