"""The pure core of the staff pages: CSRF tokens, safe redirects, the pipeline figures."""

from web.core.csrf import Csrf
from web.core.pipeline import PipelineRow, pipeline
from web.core.redirects import safe_next

__all__ = ["Csrf", "PipelineRow", "pipeline", "safe_next"]
