"""The cpe runtime: decider, workers, backends and the activity SDK."""

from cpe.runtime.activity import ActivityDefinition, activity

__all__ = ["ActivityDefinition", "activity"]
