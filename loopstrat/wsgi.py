"""Entry point for gunicorn: `gunicorn loopstrat.wsgi:app`."""

import sys

from loopstrat.app import create_app
from loopstrat.config import ConfigError, load_dotenv_file
from loopstrat.logs import setup_logging

load_dotenv_file()
setup_logging()
try:
    app = create_app()
except ConfigError as exc:
    # One clear line instead of a traceback from inside gunicorn's worker boot.
    sys.exit(f"loopstrat: configuration: {exc}")
