"""A real queue worker for the tests, on the database and queue file named in the environment."""

import os
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).parent)]

import jobkinds  # noqa: E402, F401 - registers the test kinds

from app import create_app  # noqa: E402
from jobs import queue  # noqa: E402

app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["LEC_DATABASE_URL"],
                  "SECRET_KEY": "test", "LEC_JOBS_IMMEDIATE": False})
with app.app_context():
    queue.huey(app).create_consumer(workers=1, periodic=False).run()
