"""Load ward and commune boundaries from a GeoJSON file or a zipped shapefile (docs/map.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ioc import boundaries as b
from ioc.errors import ValidationError
from ioc.models import BoundarySource, Unit
from ioc.scope import Scope
from ioc.services import unit_boundaries_set

LISTED = 30  # names listed in the report before "and N more"
CLOSE_GAPS = 0.0002  # degrees


class Command(BaseCommand):
    help = (
        "Load boundaries of a province's communes and wards from a GeoJSON FeatureCollection or a zipped "
        "shapefile, matching each feature to a unit by code, else by name. Nothing is written unless all "
        "of the file can be used."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .geojson/.json FeatureCollection or a .zip holding one shapefile")
        parser.add_argument("--province", required=True, help="the province's code, e.g. 75")
        parser.add_argument("--code-field", help="the property holding the unit code (default: ma_xa, ma, code...)")
        parser.add_argument("--name-field", help="the property holding the unit name (default: ten_xa, ten, name...)")
        parser.add_argument("--encoding", help="the shapefile table's encoding when it has no .cpg (default utf-8)")
        parser.add_argument(
            "--approximate", action="store_true", help="mark what is loaded as approximate (drawn, not surveyed)"
        )
        parser.add_argument(
            "--keep-approximate",
            action="store_true",
            help="keep the approximate boundaries of units the file does not cover (they may overlap)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")

    def handle(self, *args, **options):
        province = Unit.objects.filter(code=options["province"]).first()
        if province is None:
            raise CommandError(
                f"No unit has the code {options['province']!r}. Load the units first: "
                f"`manage.py load_units --province {options['province']}`."
            )
        try:
            features, warnings = b.read_features(options["file"], encoding=options["encoding"])
            plan = self.plan(province, features, options)
        except b.BoundaryFileError as exc:
            raise CommandError(str(exc)) from None
        for warning in warnings:
            self.stdout.write(self.style.WARNING(warning))
        source = BoundarySource.APPROXIMATE if options["approximate"] else BoundarySource.IMPORTED
        if not options["dry_run"]:
            try:
                with transaction.atomic():
                    unit_boundaries_set(boundaries=plan["write"], source=source)
                    if plan["drop"]:
                        unit_boundaries_set(boundaries=dict.fromkeys(plan["drop"]), source=BoundarySource.NONE)
            except ValidationError as exc:
                raise CommandError(str(exc)) from None
        self.report(province, plan, options)

    def plan(self, province: Unit, features: list, options) -> dict:
        """What the import would write, from a file that is whole; raises BoundaryFileError otherwise."""
        if not features:
            raise b.BoundaryFileError("The file holds no features.")
        units = list(Scope(unit=province).units().filter(kind__in=(*b.TERRITORIAL_KINDS, Unit.Kind.PROVINCE)))
        match = b.match_features(features, units, code_field=options["code_field"], name_field=options["name_field"])
        if not match.matched:
            fields = sorted({str(k) for f in features[:20] for k in f.properties})
            raise b.BoundaryFileError(
                f"No feature matched a unit of {province.name}. The file's fields are: {', '.join(fields) or 'none'}; "
                "name the ones holding the code and the name with --code-field and --name-field."
            )
        by_code = {u.code: u for u in units}
        write, simplified = {}, []
        for code, shape in match.shapes.items():
            if b.outside_service_area(shape):
                raise b.BoundaryFileError(
                    f"The boundary for {by_code[code].name} lies outside the area this centre serves: is the file "
                    "in another coordinate system (VN-2000, UTM)? Export it in WGS 84 (EPSG:4326)."
                )
            limit = b.MAX_OUTLINE_POINTS if code == province.code else b.MAX_POINTS
            write[code], was_simplified = b.to_geojson(shape, max_points=limit)
            if was_simplified:
                simplified.append(code)
        outline = "file" if province.code in write else None
        wards = [u for u in units if u.kind in b.WARD_KINDS]
        if outline is None and wards:
            covered = [u for u in wards if u.code in write or u.boundary_source == BoundarySource.IMPORTED]
            if len(covered) == len(wards):
                from shapely import union_all
                from shapely.geometry import shape

                shapes = [match.shapes.get(u.code) or shape(u.boundary) for u in wards]
                # Closing the slivers between neighbours (under ~20 m) leaves the outline, not a lace of gaps.
                union = union_all(shapes).buffer(CLOSE_GAPS).buffer(-CLOSE_GAPS)
                write[province.code], _simplified = b.to_geojson(b.polygonal(union), max_points=b.MAX_OUTLINE_POINTS)
                outline = "union"
        drop = []
        if not options["keep_approximate"] and not options["approximate"]:
            drop = [u.code for u in units if u.boundary_source == BoundarySource.APPROXIMATE and u.code not in write]
        left = [u for u in wards if u.code not in write and (u.boundary is None or u.code in drop)]
        return {
            "match": match,
            "write": write,
            "simplified": simplified,
            "outline": outline,
            "drop": drop,
            "left": left,
            "wards": wards,
            "names": {u.code: u.name for u in units},
        }

    def report(self, province: Unit, plan: dict, options) -> None:
        match, names, out = plan["match"], plan["names"], self.stdout
        total = match.matched + len(match.unmatched)
        out.write(
            f"Matched {match.matched} of {total} features to units of {province.name} "
            f"({match.by_code} by code, {match.by_name} by name)."
        )
        if match.merged:
            out.write(f"Drawn from several features: {self._names(match.merged, names)}.")
        if plan["simplified"]:
            out.write(f"Simplified to at most {b.MAX_POINTS} points: {self._names(plan['simplified'], names)}.")
        outline = {
            "file": "the province's outline is the file's own",
            "union": "the province's outline is drawn as the union of its wards and communes",
            None: "the province's outline is left as it was (the file does not cover every ward and commune)",
        }[plan["outline"]]
        out.write(outline[:1].upper() + outline[1:] + ".")
        if match.unmatched:
            out.write(self.style.WARNING(f"Unmatched features ({len(match.unmatched)}):"))
            for feature, why in match.unmatched[:LISTED]:
                code = b.pick(feature.properties, options["code_field"], b.CODE_FIELDS)
                extra = f" (code {code})" if code not in (None, "") else ""
                out.write(f"  {feature.label(options['name_field'])}{extra}: {why}")
            if len(match.unmatched) > LISTED:
                out.write(f"  ... and {len(match.unmatched) - LISTED} more")
        if plan["drop"]:
            out.write(f"Approximate boundaries removed: {len(plan['drop'])}.")
        if plan["left"]:
            out.write(
                self.style.WARNING(f"Units left without a boundary ({len(plan['left'])} of {len(plan['wards'])}):")
            )
            out.write("  " + self._names([u.code for u in plan["left"]], names))
        else:
            out.write(f"Every ward and commune of {province.name} has a boundary.")
        if options["dry_run"]:
            out.write(self.style.WARNING("Nothing written (--dry-run)."))
        else:
            out.write(self.style.SUCCESS(f"{len(plan['write'])} boundaries written."))

    @staticmethod
    def _names(codes: list[str], names: dict) -> str:
        shown = ", ".join(f"{code} {names.get(code, '')}".strip() for code in codes[:LISTED])
        return shown + (f" and {len(codes) - LISTED} more" if len(codes) > LISTED else "")
