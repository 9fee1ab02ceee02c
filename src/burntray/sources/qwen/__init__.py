"""The ``qwen`` source: Qwen Code's own chat logs, tailed as they are appended (the shared log
machinery is ``burntray.sources.agent_logs``; the format is in ``.logs``)."""

from __future__ import annotations

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    log_build,
    log_doctor,
    probe_places,
)

READER = "burntray.sources.qwen.logs:QwenLogReader"
PLACES = Places("qwen.dirs", "burntray.sources.qwen.paths:qwen_data_dirs")


SPEC = agent_spec(
    name="qwen",
    label="Qwen Code",
    places=PLACES,
    option_help="Qwen Code data folders, comma-separated ('' = QWEN_DATA_DIR or ~/.qwen)",
    covers="qwen-code",
    summary="Qwen Code's chat logs (projects/*/chats/*.jsonl): every reply's tokens, live",
    build=log_build("qwen", "Qwen Code", PLACES, READER),
    probe=probe_places(PLACES, "no Qwen Code projects folder in ", "projects"),
    doctor=log_doctor("qwen", PLACES, ("projects",)),
)
