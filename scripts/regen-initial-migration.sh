#!/usr/bin/env bash
# Regenerates migrations/versions/0001_initial.py from the models. Only while nothing is deployed:
# after the first release, add new revisions with `alembic revision --autogenerate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/0001_initial.py
# the hand-written revisions after 0001 (triggers: nothing autogenerate can see) stand aside meanwhile
later=$(ls migrations/versions/0*.py 2>/dev/null || true)
for f in $later; do mv "$f" "$tmp/"; done
trap 'for f in $later; do mv "$tmp/$(basename "$f")" migrations/versions/; done; rm -rf "$tmp"' EXIT
DATABASE_URL="sqlite+aiosqlite:///$tmp/empty.db" .venv/bin/alembic revision --autogenerate \
  --rev-id 0001 -m initial >/dev/null
.venv/bin/ruff format -q migrations/versions/0001_initial.py
echo "migrations/versions/0001_initial.py regenerated"
