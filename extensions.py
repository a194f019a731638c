"""Flask extensions, created unbound; create_app() binds them to an app."""
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from models import Base

# Plain SQLAlchemy models (models/) share this metadata, so Flask-SQLAlchemy's
# session and Alembic both see every table.
db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate()
