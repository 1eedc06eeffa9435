"""Routing's settings: the shared ones plus its own command topic and rule file."""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class RoutingSettings(Settings):
    """Settings of the routing service (env: TOPIC_ROUTING_COMMANDS, ROUTING_RULES_FILE, TIME_FRAMES_FILE, ...)."""

    service_name: str = "routing"
    topic_routing_commands: str = Field("routing.commands", description="Routing's own commands: rules.upsert, routing.handover.")
    routing_rules_file: str | None = Field(None, description="Rule set file loaded at start (default: the one shipped).")
    time_frames_file: str | None = Field(None, description="Case time-frames (default: routing/data/time_frames.yaml).")
    calendars_file: str | None = Field(None, description="Business calendars (default: shared/data/calendars.yaml).")
    routing_timer_seconds: float = Field(60.0, description="Longest sleep of the time-frame timers: they wake when "
                                         "the next one is due; this bounds it, for timers another replica wrote.")

    @property
    def routing_commands_topic(self) -> str:
        """The routing command topic, prefixed like every other topic."""
        return f"{self.topic_prefix}{self.topic_routing_commands}"

    @classmethod
    def of(cls, settings: Settings) -> "RoutingSettings":
        """Routing settings carrying over every shared value of `settings`."""
        if isinstance(settings, cls):
            return settings
        return cls(**settings.model_dump(exclude={"service_name"}), service_name=settings.service_name)
