"""Flask extensions, created unbound; create_app() binds them to an app."""
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from models import Base

# Plain SQLAlchemy models (models/) share this metadata, so Flask-SQLAlchemy's
# session and Alembic both see every table.
# expire_on_commit off: what a request loaded stays usable after its commit
# (the answer is shaped, and post-commit steps run, without reloading it).
db = SQLAlchemy(metadata=Base.metadata, session_options={"expire_on_commit": False})
migrate = Migrate()
