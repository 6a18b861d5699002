"""No answer names the server software or its version (an attacker's first look-up for
known holes): the development server (flask run, make demo) and gunicorn both say only
"Passline", over real HTTP, Socket.IO's answers included."""
import pytest
import requests

PATHS = ["/login", "/healthz", "/static/css/app.css", "/no-such-page", "/socket.io/?EIO=4&transport=polling"]


def _servers(answer) -> list[str]:
    return [value for key, value in answer.raw.headers.items() if key.lower() == "server"]


@pytest.mark.parametrize("path", PATHS)
def test_the_development_server_names_no_software(live_server, path):
    answer = requests.get(live_server.url + path, timeout=10)
    assert _servers(answer) == ["Passline"], answer.headers


@pytest.mark.slow
def test_gunicorn_names_no_software(passline_servers):
    server = passline_servers()
    for path in PATHS[:4]:
        answer = requests.get(server.url + path, timeout=10)
        assert _servers(answer) == ["Passline"], (path, answer.headers)
