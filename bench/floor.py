"""The framework floor: the least a Django + DRF POST can cost in the server under test.

`POST /bench/floor/` validates a small JSON body with a DRF serializer and INSERTs one row, in the
same process, behind the same middleware as every other view. Report and camera POSTs are
measured against it: what they cost beyond it is the product's own work (duplicate lookup, unit
location, deadlines, the live update), which is what there is to cut.

The route exists only in the servers `make bench` starts (IOC_ROOT_URLCONF=bench.urls); its
table is created by the bench (`create_table`) in the bench database.
"""

from django.db import connection
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

PATH = "/bench/floor/"
TABLE = "bench_floor"


def create_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, category varchar(64) NOT NULL, "
            "description text NOT NULL, latitude double precision, longitude double precision, "
            "created_at timestamptz NOT NULL DEFAULT now())"
        )


def empty_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")


def count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        return cursor.fetchone()[0]


class FloorSerializer(serializers.Serializer):
    category = serializers.CharField(max_length=64)
    description = serializers.CharField(max_length=4000)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False)


class FloorView(APIView):
    # Anonymous like a citizen's report; no throttle, no key: the floor is the framework alone.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def post(self, request):
        body = FloorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (category, description, latitude, longitude) "
                "VALUES (%s, %s, %s, %s) RETURNING id",
                [data["category"], data["description"], data.get("latitude"), data.get("longitude")],
            )
            row_id = cursor.fetchone()[0]
        return Response({"id": row_id}, status=status.HTTP_201_CREATED)
