"""Incident forwarding's connection test, for ``GET /api/health``.

Unlike every peer, it checks what forwarding actually needs: a token for ARM; that the
workspace answers a list with ``$top=1``; that the identity may *write* incidents and
comments (the ARM permissions API: tags and SIGNL4's status changes are writes), naming
the role to assign; and each destination's breaker. Nothing is written.

"""

from __future__ import annotations

import asyncio
from datetime import datetime

from azure.core.credentials import TokenCredential

from shared.config.incidents import GRAPH_KIND, arm_audience
from shared.diagnostics.checks import ROLE_PROPAGATION, Check
from shared.errors import SecretMissing, UpstreamUnavailable
from shared.incidents.domain import permissions
from shared.incidents.forward import Forwarder
from shared.incidents.poller import destinations

_LIST_ACTIONS = {
    401: "ARM refused the token: check ARM_ENDPOINT for your cloud.",
    403: f"Give the app's identity {permissions.RESPONDER} on the workspace (or "
    f"{permissions.READER} if nothing is written back); {ROLE_PROPAGATION}.",
    404: "No such workspace: check SENTINEL_SUBSCRIPTION_ID, SENTINEL_RESOURCE_GROUP and "
    "SENTINEL_WORKSPACE_NAME.",
}


async def incident_checks(
    credential: TokenCredential, forwarder: Forwarder, now: datetime, *, case_secret: str = ""
) -> list[Check]:
    """The incident checks (one entry when forwarding is off).

    ``case_secret`` is ELASTIC_AUTH_NAME: while it exists, Kibana's case routes write.
    """
    settings = forwarder.settings
    if not settings.enabled:
        return [Check("incidents", ok=True, detail="off: no SENTINEL_* workspace configured")]
    if settings.kind == GRAPH_KIND:
        return await graph_checks(credential, forwarder, now, case_secret=case_secret)
    checks = [await _token(credential, settings.arm_endpoint)]
    checks.append(await _list(forwarder))
    try:
        writes = bool(await _writers(forwarder, case_secret))
    except UpstreamUnavailable:
        writes = True  # the vault cannot say: check for the stricter role
    checks.append(await _write(forwarder) if writes else await _read_only(forwarder))
    checks += await _destinations(forwarder, now)
    return checks


async def graph_checks(
    credential: TokenCredential, forwarder: Forwarder, now: datetime, *, case_secret: str = ""
) -> list[Check]:
    """A Graph source's checks: token, list (``$top=1``), the application permission in
    the token (ReadWrite when anything is written back), and the destinations."""
    from shared.adapters.graph_http import READ_ROLES, WRITE_ROLE, graph_scope

    scope = graph_scope(forwarder.settings.graph_endpoint)
    checks = [await _token(credential, scope.removesuffix("/.default"), audience_given=True)]
    try:
        await forwarder.api.list_page(filter=None, orderby=None, top=1)
        checks.append(Check("graph:incidents", ok=True, detail="incidents listed ($top=1)"))
    except UpstreamUnavailable as error:
        checks.append(
            Check(
                "graph:incidents",
                ok=False,
                detail=error.message,
                action=f"Grant the identity {READ_ROLES[0]} (application permission, admin "
                "consent) and check GRAPH_ENDPOINT.",
            )
        )
    try:
        writes = bool(await _writers(forwarder, case_secret))
        roles = (await forwarder.api.permissions()).get("roles") or []
    except UpstreamUnavailable as error:
        checks.append(Check("graph:permissions", ok=False, detail=error.message))
        return checks + await _destinations(forwarder, now)
    needed = (WRITE_ROLE,) if writes else READ_ROLES
    if any(role in roles for role in needed):
        detail = "may write incidents" if writes else "may read incidents (nothing is written)"
        checks.append(Check("graph:permissions", ok=True, detail=f"the identity {detail}"))
    else:
        checks.append(
            Check(
                "graph:permissions",
                ok=False,
                detail=f"the identity's token lacks {' or '.join(needed)}",
                action=f"Grant the identity {needed[0]} on Microsoft Graph (application "
                "permission; a tenant administrator consents): tags and SIGNL4's status "
                "changes are writes.",
            )
        )
    return checks + await _destinations(forwarder, now)


async def _token(
    credential: TokenCredential, endpoint: str, *, audience_given: bool = False
) -> Check:
    audience = endpoint if audience_given else arm_audience(endpoint)
    name = f"token:{audience}"
    try:
        await asyncio.to_thread(credential.get_token, audience + "/.default")
    except Exception as error:  # noqa: BLE001 - every credential failure is a failed check
        return Check(name, False, f"no token ({type(error).__name__})", "Check the identity.")
    return Check(name, ok=True, detail="managed identity issued a token")


async def _list(forwarder: Forwarder) -> Check:
    name = "sentinel:incidents"
    try:
        await forwarder.api.list_page(filter=None, orderby=None, top=1)
    except UpstreamUnavailable as error:
        action = _LIST_ACTIONS.get(
            error.upstream_status or 0, "Check ARM_ENDPOINT and the network."
        )
        return Check(name, ok=False, detail=error.message, action=action)
    return Check(name, ok=True, detail="workspace reachable; incidents listed ($top=1)")


async def _write(forwarder: Forwarder) -> Check:
    name = "sentinel:write"
    try:
        granted = await forwarder.api.permissions()
    except UpstreamUnavailable as error:
        return Check(name, ok=False, detail=error.message, action="Check ARM_ENDPOINT.")
    missing = permissions.missing(granted, [permissions.WRITE, permissions.COMMENT])
    if missing:
        return Check(
            name,
            ok=False,
            detail=f"the identity may not {', '.join(missing)}",
            action=f"Give the app's identity {permissions.RESPONDER} on the workspace: tags "
            f"and SIGNL4's status changes are writes ({permissions.READER} is enough only "
            f"if nothing is written back); {ROLE_PROPAGATION}.",
        )
    return Check(name, ok=True, detail="the identity may write incidents and comments")


async def _writers(forwarder: Forwarder, case_secret: str) -> list[str]:
    """What writes to Sentinel: tags, SIGNL4's callback, Kibana's case routes.

    Raises:
        UpstreamUnavailable: Key Vault cannot say (and nothing is cached).
    """
    settings = forwarder.settings
    found = [
        f"the {tag} tag"
        for tag in (settings.tag_of(d) for d in await destinations(forwarder))
        if tag is not None
    ]
    for secret, writer in (
        (settings.signl4_callback_token_name, "SIGNL4's callback"),
        (case_secret, "Kibana's case routes"),
    ):
        if secret and await _exists(forwarder, secret):
            found.append(writer)
    return found


async def _exists(forwarder: Forwarder, secret: str) -> bool:
    try:
        await forwarder.secrets.get(secret)
    except SecretMissing:
        return False
    return True


async def _read_only(forwarder: Forwarder) -> Check:
    """Reader-only mode: nothing writes, so reading incidents is all that is needed."""
    name = "sentinel:read"
    try:
        granted = await forwarder.api.permissions()
    except UpstreamUnavailable as error:
        return Check(name, ok=False, detail=error.message, action="Check ARM_ENDPOINT.")
    if not permissions.allowed(granted, permissions.READ):
        return Check(
            name,
            ok=False,
            detail=f"the identity may not {permissions.READ}",
            action=f"Give the app's identity {permissions.READER} on the workspace; "
            f"{ROLE_PROPAGATION}.",
        )
    return Check(
        name,
        ok=True,
        detail="reader-only: no tag, no SIGNL4 callback and no case write-back, so nothing "
        f"is written to Sentinel and {permissions.READER} suffices",
    )


async def _destinations(forwarder: Forwarder, now: datetime) -> list[Check]:
    try:
        names = await destinations(forwarder)
    except UpstreamUnavailable as error:
        return [Check("destinations", ok=False, detail=error.message)]
    checks = []
    for destination in names:
        breaker = await forwarder.state.breaker(destination)
        delivered, failed = breaker.totals(now)
        detail = f"{delivered} delivered, {failed} failed in 12 h"
        if breaker.disabled:
            checks.append(
                Check(
                    f"destination:{destination}",
                    ok=False,
                    detail="disabled by its breaker; " + detail,
                    action=f"Fix the destination, then POST /api/ops/destinations/"
                    f"{forwarder.settings.external_id(destination)}/enable (or wait for a "
                    "successful probe).",
                )
            )
        else:
            checks.append(Check(f"destination:{destination}", ok=True, detail=detail))
    if not names:
        checks.append(Check("destinations", ok=True, detail="none enabled"))
    return checks
