"""Loading the administrative unit tree from the shipped data file or `vietnam-provinces`."""

import json
from pathlib import Path

from django.db import transaction

from ioc.services import unit_upsert

DATA_DIR = Path(__file__).resolve().parent / "data"

_KINDS = {"phường": "ward", "xã": "commune", "đặc khu": "special_zone"}


def units_from_data_file(province: str) -> list[dict]:
    path = DATA_DIR / f"units_{province}.json"
    if not path.exists():
        raise FileNotFoundError(path)
    return json.loads(path.read_text(encoding="utf-8"))["units"]


def units_from_package(province: str) -> list[dict]:
    """Province and its communes/wards from the optional `vietnam-provinces` package."""
    from vietnam_provinces import Province, ProvinceCode, Ward

    prov = Province.from_code(ProvinceCode(int(province)))
    rows = [{"code": str(int(province)), "name": prov.name, "kind": "province", "parent": None}]
    for ward in sorted(Ward.iter_all(), key=lambda w: int(w.code)):
        if int(ward.province_code) == int(province):
            kind = _KINDS.get(str(ward.division_type.value), "commune")
            rows.append({"code": str(int(ward.code)), "name": ward.name, "kind": kind, "parent": str(int(province))})
    return rows


def load_units(rows: list[dict]) -> int:
    """Upsert rows (parents before children); returns how many were written."""
    by_code = {}
    with transaction.atomic():
        for row in rows:
            parent = by_code.get(row.get("parent")) if row.get("parent") else None
            if row.get("parent") and parent is None:
                from ioc.models import Unit

                parent = Unit.objects.get(code=row["parent"])
            extra = {k: row[k] for k in ("name_en", "latitude", "longitude") if k in row}
            by_code[row["code"]] = unit_upsert(
                code=row["code"], name=row["name"], kind=row["kind"], parent=parent, **extra
            )
    return len(by_code)
