"""The HTTP side of a service: FastAPI routers mounted with FastStream's lifespan and probes, request limits."""

from shared.runtime.api.app import PROBES, api_app, mount_api
from shared.runtime.api.limits import RequestLimits

__all__ = ["PROBES", "RequestLimits", "api_app", "mount_api"]
