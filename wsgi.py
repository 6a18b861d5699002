"""The WSGI entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`."""
from app import background, create_app

app = create_app()

if background.is_serving_command():
    background.start(app)
