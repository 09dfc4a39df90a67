#!/usr/bin/env bash
# Regenerates migrations/versions/0001_initial.py from the models. Only while nothing is deployed:
# after the first release, add new revisions with `alembic revision --autogenerate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/0001_initial.py
DATABASE_URL="sqlite+aiosqlite:///$tmp/empty.db" .venv/bin/alembic revision --autogenerate \
  --rev-id 0001 -m initial >/dev/null
.venv/bin/ruff format -q migrations/versions/0001_initial.py
rm -rf "$tmp"
echo "migrations/versions/0001_initial.py regenerated"
