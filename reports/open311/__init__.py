"""Open311 GeoReport v2 at /open311/v2/: services, requests, tokens and discovery in JSON and XML."""
