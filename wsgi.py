"""The WSGI entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`."""
from app import background
from app.infra import cooperative

if background.serves_http():
    cooperative.patch()  # before anything imports socket or threading: app/infra/cooperative.py

import devtools  # noqa: E402
from app import create_app  # noqa: E402

app = create_app()
devtools.register(app)  # `flask demo`, `onetablet-sim`, `seed-history`: commands, never run by serving

if cooperative.is_on():  # serving: long full collections would stall every board and webhook
    from app.infra import collector  # noqa: E402

    collector.install()

if background.is_serving_command():
    background.start(app)
