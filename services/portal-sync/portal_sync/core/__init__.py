"""portal-sync core: the mapping (data) and the projection of case events; no Kafka, no Mongo."""

from portal_sync.core.mapping import DEFAULT_MAPPING, MappingError, PortalMapping, load_mapping, parse_mapping
from portal_sync.core.projection import CaseFacts, InvalidEvent, Outcome, ProjectionState, project, read_facts

__all__ = ["DEFAULT_MAPPING", "CaseFacts", "InvalidEvent", "MappingError", "Outcome", "PortalMapping",
           "ProjectionState", "load_mapping", "parse_mapping", "project", "read_facts"]
