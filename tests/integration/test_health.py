def test_healthz_is_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["checks"]["database"] == "ok"


def test_healthz_is_503_when_redis_is_configured_but_down(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["checks"]["redis"].startswith("error")


def test_healthz_is_503_when_the_database_is_unreachable(_database):
    from tests.conftest import make_app

    broken = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["checks"]["database"].startswith("error")
