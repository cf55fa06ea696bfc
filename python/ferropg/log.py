"""The package logger: `echo=True` connections log their statements here at INFO."""

import logging

logger = logging.getLogger("ferropg")
