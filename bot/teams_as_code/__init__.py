"""Teams as code: a team as a YAML file, and back (`qms-bot team export/import`). Spans the domains.

- service.py    export, and import: validate everything, then make the team what the file says
- yaml_file.py  reading YAML with the line of every key, so that each problem names its line
"""

from bot.teams_as_code.service import (
    export_team,
    find_team,
    import_text,
)
from bot.teams_as_code.yaml_file import (
    ConfigError,
)

__all__ = [
    "ConfigError", "export_team", "find_team", "import_text",
]
