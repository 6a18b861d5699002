def test_healthz_is_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["checks"]["database"] == "ok"


def test_healthz_is_503_when_redis_is_configured_but_down(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["checks"]["redis"].startswith("error")


def test_healthz_is_503_when_the_database_is_unreachable(_database):
    from tests.helpers import make_app

    broken = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["checks"]["database"].startswith("error")


def test_healthz_answers_503_when_the_database_accepts_but_never_answers(monkeypatch, _database):
    """A stuck PostgreSQL (the connection accepted, no word after it) once held /healthz,
    and every request, for ever: libpq now gives up connecting (connect_timeout)."""
    import socket
    import threading

    from tests.helpers import make_app

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel accepts; nobody ever reads or answers
    url = f"postgresql+psycopg://nobody@127.0.0.1:{silent.getsockname()[1]}/none"
    monkeypatch.setenv("DATABASE_URL", url)
    stuck = make_app(url)
    stuck.config["SQLALCHEMY_DATABASE_URI"] = url
    answers = []
    asker = threading.Thread(target=lambda: answers.append(stuck.test_client().get("/healthz")), daemon=True)
    try:
        asker.start()
        asker.join(timeout=30)  # bounded: a hang fails the test instead of the run
        assert answers, "/healthz did not answer"
        assert answers[0].status_code == 503 and "error" in answers[0].get_json()["checks"]["database"]
    finally:
        silent.close()


def _heartbeat(app):
    from app.services import heartbeat

    with app.app_context():
        heartbeat.beat(heartbeat.OVERDUE)


def test_healthz_tells_a_stranger_the_status_but_not_which_host_and_process(app, client):
    import os
    import socket

    _heartbeat(app)
    answer = client.get("/healthz")
    body = answer.get_json()
    assert answer.status_code == 200 and body["status"] == "ok" and body["checks"]["database"] == "ok"
    assert "by" not in body["scheduler"]
    assert f"{socket.gethostname()}:{os.getpid()}" not in answer.get_data(as_text=True)


def test_healthz_tells_logged_in_staff_which_process_ran_the_tick(app, auth, client):
    import os

    _heartbeat(app)
    auth.login()
    assert client.get("/healthz").get_json()["scheduler"]["by"].endswith(f":{os.getpid()}")
