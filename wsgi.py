"""The WSGI entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`."""
import devtools
from app import background, create_app

app = create_app()
devtools.register(app)  # `flask demo`, `onetablet-sim`, `seed-history`: commands, never run by serving

if background.is_serving_command():
    background.start(app)
