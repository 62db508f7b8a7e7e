#!/usr/bin/env bash
# Generates a Python client from the OpenAPI schema with openapi-python-client, as a new user
# would, failing on any generator warning, then runs a short typed workflow through it (sign up,
# log in, subscribe, post, read) against a real server (gunicorn, production settings, a
# throwaway SQLite database) on CLIENT_PORT (default 8433).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${CLIENT_PORT:-8433}
work=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The generator formats its output with ruff, which it looks up on PATH.
export PATH="$PWD/.venv/bin:$PATH"

DJANGO_DEBUG=1 .venv/bin/python manage.py spectacular --format openapi-json --file "$work/schema.json"
cat >"$work/generator.yaml" <<YAML
project_name_override: platform_client
package_name_override: platform_client
YAML
.venv/bin/openapi-python-client generate --path "$work/schema.json" --config "$work/generator.yaml" \
    --meta none --output-path "$work/platform_client" >"$work/generate.log" 2>&1 \
    || { cat "$work/generate.log"; exit 1; }
if grep -qiE "warning|error" "$work/generate.log"; then
    echo "openapi-python-client reported problems with the schema:" >&2
    cat "$work/generate.log" >&2
    exit 1
fi
echo "client generated without warnings"

export DJANGO_DEBUG=0
export DJANGO_SECRET_KEY="client-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DJANGO_ALLOWED_HOSTS=127.0.0.1
export DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_REQUEST_LOG=0
export DATABASE_URL="sqlite:///$work/client.sqlite3"
.venv/bin/python manage.py migrate --no-input -v0
if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
    echo "Port $PORT is already serving something: set CLIENT_PORT to a free port." >&2
    exit 1
fi
.venv/bin/gunicorn -c gunicorn.conf.py --bind "127.0.0.1:$PORT" --workers 1 \
    --access-logfile /dev/null platform_project.wsgi >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.2
done

base="http://127.0.0.1:$PORT"
run() { PYTHONPATH="$work" .venv/bin/python scripts/client_workflow.py "$@"; }
pro=$(run "$base" professional) || { tail -50 "$work/server.log"; exit 1; }
# The operator's step: staff verify the professional before their plans can be sold.
.venv/bin/python manage.py verify_professional "$pro"
run "$base" learner "$pro" || { echo "--- server log"; tail -50 "$work/server.log"; exit 1; }
