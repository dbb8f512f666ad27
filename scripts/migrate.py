"""Apply the Alembic migrations to HEARTH_DATABASE_URL: `make migrate`, and the first step of
`make run`.

Unlike a bare `alembic upgrade head`, this works from any working directory (alembic.ini's paths
are relative to the repository root, while `var/` is relative to the working directory) and it
says what it applied.
"""

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    from alembic import command
    from alembic.config import Config

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    alembic_log = logging.getLogger("alembic.runtime.migration")
    alembic_log.addHandler(handler)
    alembic_log.setLevel(logging.INFO)
    alembic_log.propagate = False

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    command.upgrade(config, "head")
    print("database is at the latest migration", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
