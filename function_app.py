"""sentinel-bridge: SaaS security webhooks into Microsoft Sentinel.

The Functions host imports this module to index the app, so it only registers the
blueprints: no settings are read and no clients are built until a function runs. Every
blueprint reaches its dependencies the same way, through ``shared.bootstrap.root()``.
"""

from __future__ import annotations

import azure.functions as func

from blueprints.bridge_health import blueprint as bridge_health_blueprint
from blueprints.elastic_cases import blueprint as elastic_cases_blueprint
from blueprints.fig import blueprint as fig_blueprint
from blueprints.health import blueprint as health_blueprint
from blueprints.incidents import blueprint as incidents_blueprint
from blueprints.openapi import blueprint as openapi_blueprint
from blueprints.retry import blueprint as retry_blueprint
from blueprints.sources import blueprint as sources_blueprint

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (
    fig_blueprint,
    sources_blueprint,
    elastic_cases_blueprint,
    incidents_blueprint,
    retry_blueprint,
    health_blueprint,
    bridge_health_blueprint,
    openapi_blueprint,
):
    app.register_functions(blueprint)
