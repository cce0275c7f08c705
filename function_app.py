"""sentinel-bridge: SaaS security webhooks into Microsoft Sentinel.

The Functions host imports this module to index the app, so it only registers the
blueprints: no settings are read and no clients are built until a function runs.
"""

from __future__ import annotations

import azure.functions as func

from blueprints.bridge_health import bridge_health_blueprint
from blueprints.elastic_cases import blueprint as elastic_cases_blueprint
from blueprints.fig import blueprint as fig_blueprint
from blueprints.health import blueprint as health_blueprint
from blueprints.incidents import blueprint as incidents_blueprint
from blueprints.openapi import blueprint as openapi_blueprint
from blueprints.retry import blueprint as retry_blueprint
from blueprints.sources import blueprint as sources_blueprint
from shared.bootstrap import get_health_wiring

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(fig_blueprint)
app.register_functions(health_blueprint)
app.register_functions(sources_blueprint)
app.register_functions(openapi_blueprint)
app.register_functions(retry_blueprint)
app.register_functions(bridge_health_blueprint(get_health_wiring))
app.register_functions(incidents_blueprint)
app.register_functions(elastic_cases_blueprint)
