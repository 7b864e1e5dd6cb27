"""The schema tells the truth: it generates without a single drf-spectacular warning or error, and
it is a valid OpenAPI 3 document."""

from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema


def test_the_schema_generates_without_any_warning_or_error_and_validates(capsys):
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    said = capsys.readouterr().err
    assert not GENERATOR_STATS, said
    validate_schema(schema)
    bodies = {
        path: schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        for path in ("/api/v1/traffic/events/", "/api/v1/onestop/dossiers/", "/api/v1/onestop/queues/")
    }
    # The machine-facing batch endpoints are described, not a generic free-form object.
    assert all("$ref" in body for body in bodies.values()), bodies
    for name in ("CameraEventsBodyRequest", "DossiersBodyRequest", "QueueFiguresBodyRequest"):
        assert len(schema["components"]["schemas"][name]["oneOf"]) == 2
