"""Teams as code: a team as a YAML file, and back (`qms-bot team export/import`). Spans the domains.

- service.py    export, and import: validate everything, then make the team what the file says
- yaml_file.py  reading YAML with the line of every key, so that each problem names its line
"""

from bot.teams_as_code.service import (
    export_team,
    find_team,
    import_text,
    team_name_option,
    workspace_option,
)
from bot.teams_as_code.yaml_file import (
    FILE_MAX,
    ConfigError,
    Unreadable,
    decode,
)

__all__ = [
    "ConfigError", "decode", "export_team", "FILE_MAX", "find_team", "import_text", "team_name_option",
    "Unreadable", "workspace_option",
]
