#!/usr/bin/env bash
# Fuzzes every operation of the OpenAPI schema with schemathesis against a real server
# (gunicorn, production settings, a throwaway SQLite database with a little data), with a
# valid bearer token. Fails on any 5xx or any response that does not match the schema.
# Bounded: FUZZ_EXAMPLES cases per operation (default 25).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${FUZZ_PORT:-8391}
work=$(mktemp -d)
export DJANGO_DEBUG=0
export DJANGO_SECRET_KEY="fuzz-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DJANGO_ALLOWED_HOSTS=127.0.0.1
export DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_REQUEST_LOG=0
export DATABASE_URL="sqlite:///$work/fuzz.sqlite3"
# The fuzzer sends thousands of requests: throttles would turn most of them into 429s.
export THROTTLE_LOGIN_IP=100000/min THROTTLE_LOGIN_USERNAME=100000/min THROTTLE_MESSAGE_POST=100000/min
export THROTTLE_SIGNUP_IP=100000/min THROTTLE_DIRECT_OPEN=100000/min
export THROTTLE_EMAIL_ADDRESS=100000/min THROTTLE_PASSWORD_RESET_IP=100000/min
export THROTTLE_EMAIL_CHANGE_USER=100000/min THROTTLE_EMAIL_CHANGE_IP=100000/min THROTTLE_TOKEN_CONFIRM_IP=100000/min

.venv/bin/python manage.py migrate --no-input -v0
.venv/bin/python manage.py collectstatic --no-input -v0
ids=$(.venv/bin/python manage.py shell -c "
from decimal import Decimal
from rest_framework_simplejwt.tokens import AccessToken
from accounts.models import User
from subscriptions import services
pro = User.objects.create_user('fuzzpro', 'fuzzpro@example.com', 'fuzz-password-123')
learner = User.objects.create_user('fuzzlearner', 'fuzzlearner@example.com', 'fuzz-password-123')
professional = services.professional_apply(user=pro, headline='Fuzz')
services.professional_set_verified(professional=professional, verified=True)
plan = services.plan_create(user=pro, name='Fuzz plan', price=Decimal('9.99'))
other_plan = services.plan_create(user=pro, name='Fuzz plan two', price=Decimal('19.99'))
subscription = services.subscription_subscribe(user=learner, plan_id=plan.pk, payment_method='paypal', transaction_id='fuzz_1').subscription
from chat.models import ChatChannel
from chat.services import message_post
from content.services import content_create
channel = ChatChannel.objects.get(related_id=plan.pk)
message_post(channel=channel, sender=learner, content='hello')
item = content_create(user=pro, title='Fuzz lesson', full_content='body', plan_id=plan.pk, is_published=True)
print('IDS', AccessToken.for_user(learner), learner.pk, other_plan.pk, channel.pk, professional.pk, subscription.pk, item.pk)
" | sed -n 's/^IDS //p')
read -r token user_id plan_id channel_id professional_id subscription_id content_id <<<"$ids"
# Real ids for path parameters, so generated requests reach the logic behind the 404s too.
cat >"$work/schemathesis.toml" <<TOML
[parameters]
"path.user_id" = $user_id
"path.plan_id" = $plan_id
"path.channel_id" = $channel_id
"path.professional_id" = $professional_id
"path.subscription_id" = $subscription_id
"path.content_id" = $content_id
TOML

.venv/bin/gunicorn -c gunicorn.conf.py --bind "127.0.0.1:$PORT" --workers 2 \
    --access-logfile /dev/null platform_project.wsgi >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.2
done

# One worker: schemathesis's workers are threads, and Python 3.11's ast.parse is not safe to run
# in two threads at once (hypothesis parses lambda sources; CPython gh-106905: a spurious
# "SystemError: AST constructor recursion depth mismatch" fails the run now and then).
.venv/bin/schemathesis --config-file "$work/schemathesis.toml" run "http://127.0.0.1:$PORT/schema?format=json" \
    --checks not_a_server_error,response_schema_conformance \
    -H "Authorization: Bearer $token" \
    --max-examples "${FUZZ_EXAMPLES:-25}" \
    --workers 1 \
    --seed "${FUZZ_SEED:-20261124}" \
    --generation-database none \
    --no-color || { echo "--- server log"; tail -50 "$work/server.log"; exit 1; }
