"""portal-sync's settings: the shared ones plus where its mapping file is."""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class PortalSyncSettings(Settings):
    """Shared settings plus `PORTAL_MAPPING_FILE`."""

    portal_mapping_file: str | None = Field(
        None, description="Status mapping YAML; default the packaged data/portal_mapping.yaml. A changed mapping "
                          "takes effect through `python -m portal_sync rebuild`.")
