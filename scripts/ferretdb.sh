#!/usr/bin/env bash
# Old name of scripts/devdb.sh (the dev database is now FerretDB on PostgreSQL); kept so that older
# commands and branches keep working. Same arguments: see scripts/devdb.sh --help.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/devdb.sh" "$@"
