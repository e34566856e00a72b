#!/bin/sh
# Registers Transitions on the Prefect server named by PREFECT_API_URL: the process work pool,
# the deployments of prefect.yaml and the automation that marks dead runs Crashed. Idempotent:
# run it after each upgrade (systemd: transitions-deploy.service). Prefect's own commands, so
# that what it does reads as Prefect's documentation says; the mailbox's deployment only when a
# mailbox is configured (IMAP_HOST or MAILDIR), as `transitions serve` does.
set -eu
: "${PREFECT_API_URL:?PREFECT_API_URL doit nommer le serveur Prefect (http://hôte:4200/api)}"
HOME_DIR="${TRANSITIONS_HOME:-$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)}"
export TRANSITIONS_HOME="$HOME_DIR"
PREFECT="${PREFECT:-$HOME_DIR/.venv/bin/prefect}"
POOL="${TRANSITIONS_POOL:-transitions}"
cd "$HOME_DIR"

"$PREFECT" --no-prompt work-pool create "$POOL" --type process --overwrite >/dev/null
if [ -n "${IMAP_HOST:-}${MAILDIR:-}" ]; then
    "$PREFECT" --no-prompt deploy --all >/dev/null
else
    set --
    for name in $(sed -n 's/^  - name: //p' prefect.yaml | grep -vx releve-candidatures); do
        set -- "$@" --name "$name"
    done
    "$PREFECT" --no-prompt deploy "$@" >/dev/null
fi
"$PREFECT" --no-prompt automation delete runs-sans-battement >/dev/null 2>&1 || true
"$PREFECT" --no-prompt automation create --from-file deploy/automations.yaml >/dev/null
echo "Pool « $POOL », déploiements et automatisation enregistrés sur $PREFECT_API_URL."
