"""A FunctionApp with only the retry blueprint, for the retry end-to-end tests.

``function_app.py`` is the whole bridge; these tests serve just the worker and the
dead-letter routes through the local host.
"""

from __future__ import annotations

import azure.functions as func

from blueprints.retry import blueprint

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(blueprint)
