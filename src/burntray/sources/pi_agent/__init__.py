"""The ``pi-agent`` source: the session logs of pi (pi-mono's coding agent), tailed as they are
appended (the shared log machinery is ``burntray.sources.agent_logs``; the format is in
``.logs``). Named ``pi-agent`` as ccusage names it; burntray's own code may not carry a
source's name, and "pi" is inside too many words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from burntray.sources.agent_logs.agent_spec import Places, agent_spec, log_build, probe_places
from burntray.sources.agent_logs.spec import doctor_lines

if TYPE_CHECKING:
    from burntray.sources.base import SourceContext

PLACES = Places("pi-agent.dirs", "burntray.sources.pi_agent.paths:pi_session_dirs")


def _doctor(ctx: SourceContext) -> list[str]:
    dirs = PLACES(ctx)  # sessions folders: their parents, each with the folder's name
    return doctor_lines(ctx, "pi-agent", [d.parent for d in dirs], tuple({d.name for d in dirs}))


SPEC = agent_spec(
    name="pi-agent",
    label="pi",
    places=PLACES,
    option_help="pi sessions folders, comma-separated ('' = PI_AGENT_DIR or ~/.pi/agent/sessions)",
    covers="pi",
    summary="pi's session logs (~/.pi/agent/sessions): every message's tokens and cost, live",
    build=log_build("pi-agent", "pi", PLACES, "burntray.sources.pi_agent.logs:PiLogReader"),
    probe=probe_places(PLACES, "no pi sessions folder at "),
    doctor=_doctor,
)
