"""The OpenAPI description is valid, the docs render offline, health answers."""

from openapi_spec_validator import validate

from itsmo.api.urls import api


def test_openapi_json_is_a_valid_openapi_document(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    spec = response.json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_openapi_documents_every_endpoint(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    for path in [
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/users/{user_id}",
        "/api/v1/support-groups",
        "/api/v1/support-groups/{group_id}",
        "/api/v1/tokens",
        "/api/v1/tokens/{token_id}",
        "/api/v1/regions",
        "/api/v1/countries",
        "/api/v1/sites",
        "/api/v1/business-units",
        "/api/v1/calendars",
        "/api/v1/calendars/{calendar_id}",
        "/api/v1/journal/{record_type}/{record_id}",
    ]:
        assert path in paths


def test_openapi_documents_the_maximum_page_size(client):
    spec = client.get("/api/v1/openapi.json").json()
    parameters = spec["paths"]["/api/v1/regions"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "page_size")

    assert page_size["schema"]["maximum"] == 500
    assert "500" in page_size["description"]
    assert "at most 500" in spec["info"]["description"]


def test_openapi_documents_problem_responses(client):
    spec = client.get("/api/v1/openapi.json").json()
    responses = spec["paths"]["/api/v1/support-groups"]["post"]["responses"]

    for status in ("401", "403", "422"):
        assert "application/problem+json" in responses[status]["content"]


def test_every_operation_has_a_unique_id():
    spec = api.get_openapi_schema()
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]

    assert len(ids) == len(set(ids))


def test_docs_page_renders_with_local_static_files(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_swagger_ui_assets_are_served(client):
    for asset in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui.css", "ninja/swagger-ui-init.js"):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200, asset
        assert b"".join(response.streaming_content if response.streaming else [response.content])


def test_healthz_reports_the_database(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["database"] == "ok"
