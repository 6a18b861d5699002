"""The ceiling for the webhook benchmark: a bare Flask JSON endpoint at the webhooks' paths,
served by the same gunicorn settings. It reads and parses the body and answers JSON, and
does nothing else (no signature, no database)."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")


@app.route("/onetablet/<path:rest>", methods=["PATCH", "PUT"])
def webhook(rest):
    data = request.get_json(force=True)
    return jsonify(status="applied", detail=f"{len(data)} field(s)")
