"""Settings for the learning platform, 12-factor through django-environ.

Every variable is documented in `.env.example` and the README. Secure by default: DEBUG is off
unless asked for, and a secret key is required whenever it is off.
"""

from datetime import timedelta
from pathlib import Path

import environ
import orjson
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for development; real deployments set the environment.
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(env_file)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    # Debug only: a fixed, obviously unsafe key so a first run needs no configuration.
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)

INSTALLED_APPS = [
    "django.contrib.admin",
    # Autocomplete list filters for the large admin tables (channel, plan, professional).
    "admin_auto_filters",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and ReDoc bundles served as the project's own static files (no CDN).
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "accounts",
    "subscriptions",
    "chat",
    "content",
    # Last: the project's own system checks (platform_project.checks).
    "platform_project.apps.PlatformProjectConfig",
]

MIDDLEWARE = [
    "platform_project.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # no-store on answers to credentials and writes (see the module).
    "platform_project.cache_headers.NoStoreForCredentialsMiddleware",
    "platform_project.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns an admin login refused by the lockout (accounts.lockout) into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "platform_project.urls"
# API paths answer with and without the trailing slash themselves (see urls.py), so Django
# must never redirect: a redirect would drop a POST body.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "platform_project.wsgi.application"
ASGI_APPLICATION = "platform_project.asgi.application"


# --- Database ---------------------------------------------------------------------------------
def _database_url() -> str:
    """DATABASE_URL wins; the prototype's DB_URL (SQLAlchemy style) is accepted too."""
    url = env("DATABASE_URL", default="")
    if not url:
        url = env("DB_URL", default="")
        # SQLAlchemy names the driver after a '+': mysql+pymysql://, mysql+mysqldb://. Django
        # always talks to MySQL through mysqlclient, so the driver part is dropped.
        if url.startswith("mysql+"):
            url = "mysql://" + url.split("://", 1)[1]
    return url or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"


DATABASES = {"default": env.db_url_config(_database_url())}
_db = DATABASES["default"]
# No request-wide transaction: every writing service is its own `transaction.atomic` (see
# docs/architecture.md, "Transactions").
_db["ATOMIC_REQUESTS"] = False
_db["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
_db["CONN_HEALTH_CHECKS"] = True
if _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            # Strict mode turns silent truncation into errors; READ COMMITTED is Django's default
            # and what the services' locking is written for.
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            "isolation_level": "read committed",
            # Fail fast when the database is unreachable instead of hanging a worker.
            "connect_timeout": env.int("DJANGO_DB_CONNECT_TIMEOUT", default=5),
        }
    )
    # A hung (not down) database: without a read timeout a worker waits on it until gunicorn
    # kills the worker. Opt-in (set it for the web server) because migrate or a bulk seed may
    # legitimately wait longer on one statement.
    if _db_read_timeout := env.int("DJANGO_DB_READ_TIMEOUT", default=0):
        _db["OPTIONS"].update({"read_timeout": _db_read_timeout, "write_timeout": _db_read_timeout})
    _db.setdefault("TEST", {}).update({"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"})
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite: wait for the write lock instead of failing at once under concurrent writers, and
    # take it when the transaction starts, so a read-then-write transaction cannot deadlock.
    _db.setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache (throttling state) ----------------------------------------------------------------
# Redis when CACHE_URL is set, so throttles hold across server processes; local memory otherwise,
# which only a DEBUG run may use (`check --deploy` fails without CACHE_URL: platform.E001).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Live delivery (WebSocket, chat.consumers) ------------------------------------------------
# Redis when REDIS_URL is set, so every server process reaches every socket; the in-process layer
# otherwise (one process: `make demo`). The pub/sub layer, not channels_redis's core layer: the
# core layer keeps each process's deliveries in one capped Redis list and drops the overflow
# silently (group_send never raises), which lost most of a 500-post burst; pub/sub has no such
# cap, and each socket bounds its own outgoing queue instead (chat.consumers). Either way the
# socket is a fast path only: `resume` and REST `after_seq` replay from the database. The class
# is that layer plus a notice to every socket when its Redis connection came back (events
# published meanwhile are gone): chat.live_layer.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Pub/sub channels are server-wide, not per database index: the index goes into the prefix,
    # so deployments (or test runs) on one Redis with different indexes never hear each other.
    _redis_db = REDIS_URL.split("?", 1)[0].rsplit("/", 1)[-1] if REDIS_URL.count("/") > 2 else ""
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chat.live_layer.ReconnectAwarePubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL}],
                "prefix": f"lp.live.{_redis_db or '0'}.",
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }
# The server pings every socket this often and drops a peer that does not answer within it
# (uvicorn's ws_ping_interval / ws_ping_timeout, set from this by gunicorn.conf.py and the
# Makefile); `hello` tells clients.
LIVE_HEARTBEAT_SECONDS = env.int("LIVE_HEARTBEAT_SECONDS", default=20)

# --- Passwords ---------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # bcrypt stays verifiable so hashes imported from the original prototype (passlib bcrypt)
    # keep working and are upgraded to Argon2 on the next successful login.
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "accounts.hashers.PrototypeBcryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# ModelBackend looks users up with User.objects.get_by_natural_key (case-insensitive) and runs
# the hasher for unknown usernames too, so unknown user and wrong password take the same time.
# The lockout backend comes first: a locked-out admin login is refused before any password check.
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.AdminLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Admin login lockout (django-axes; see accounts.lockout) ------------------------------------
# After AXES_FAILURE_LIMIT failed admin logins for one account (any spelling of its username) or
# from one client, that account / client is refused until the cool-off passes or staff lift it
# in the admin ("Access attempts"). Attempts are rows in the database, so every server process
# sees the same count.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_ONLY_ADMIN_SITE = True
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "accounts.lockout.AdminLockoutHandler"
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.lockout_client_ip"
# Failed attempts only: a row for every successful staff login is not needed.
AXES_DISABLE_ACCESS_LOG = True
# Lockouts are logged as warnings; no banner on every management command.
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Empty counts as unset: an empty path would be the working directory, and WhiteNoise would
# serve the project's files (`.env` included) under /static/ (platform.E003 refuses that too).
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default="") or BASE_DIR / "staticfiles").resolve()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # WhiteNoise's manifest storage, minus the 500 when collectstatic has not run (see the
        # module; the check platform.W002 reports it at start-up).
        "BACKEND": "platform_project.static_storage.ManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

ADMIN_URL = env("DJANGO_ADMIN_URL", default="admin/")

# --- Security (secure production defaults, overridable from the environment) ---------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env.bool("DJANGO_USE_X_FORWARDED_HOST", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz(/live)?/?$"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env("DJANGO_SECURE_REFERRER_POLICY", default="same-origin")
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and everything else from this origin only. The
# admin's own inline style block carries the per-response nonce (templates/admin/base_site.html);
# the docs pages widen style-src and worker-src for Swagger UI and ReDoc (platform_project.urls).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_MAX_BODY_BYTES", default=1024 * 1024)

# CORS only when origins are configured: browsers on other origins get nothing otherwise, and
# preflight requests stay ordinary API requests. Tokens travel in the Authorization header, so
# credentials (cookies) are never allowed cross-origin.
CORS_ALLOWED_ORIGINS = env.list("DJANGO_CORS_ALLOWED_ORIGINS", default=[])
if CORS_ALLOWED_ORIGINS:
    INSTALLED_APPS.append("corsheaders")
    # Right after the request log, before anything that can answer (413, HTTPS redirect), so
    # those answers carry the CORS headers a browser needs to show them to the page.
    MIDDLEWARE.insert(1, "corsheaders.middleware.CorsMiddleware")
    CORS_ALLOW_CREDENTIALS = False
    CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "x-request-id"]
    CORS_EXPOSE_HEADERS = ["x-request-id", "retry-after"]
    CORS_PREFLIGHT_MAX_AGE = 3600

# --- E-mail (password reset, e-mail change confirmation) ------------------------------------
# Django's e-mail API. EMAIL_URL picks the backend: smtp://user:pass@host:25, smtp+tls://...:587
# (STARTTLS), smtp+ssl://...:465 in production; consolemail:// (the default: messages are printed
# by the server process) for the demo.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Learning Platform <noreply@localhost>")
# Seconds one SMTP conversation may take.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# Account mail is sent by a background thread after the response (accounts.emails), so how long
# the mail server takes never shows in a password reset's answer. The tests send in the request.
ACCOUNT_EMAIL_IN_BACKGROUND = True
# Links in e-mails point at the front end (never at the request's Host header, which a client
# picks): {FRONTEND_URL}/password-reset/confirm?uid=...&token=... and
# {FRONTEND_URL}/email/confirm?token=...; the front end posts them back to the API.
FRONTEND_URL = env("FRONTEND_URL", default="http://localhost:3000").rstrip("/")
# Seconds a password reset link (Django's token generator) and an e-mail change link stay valid.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)
EMAIL_CHANGE_TIMEOUT = env.int("EMAIL_CHANGE_TIMEOUT", default=24 * 60 * 60)

# --- REST framework ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.PlatformJWTAuthentication",
        # Session auth keeps the browsable API and admin users working, with CSRF enforced.
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny by default: every view states what it allows.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # orjson renders in C (docs/performance.md); its parser reads request bodies.
    "DEFAULT_RENDERER_CLASSES": ["drf_orjson_renderer.renderers.ORJSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["drf_orjson_renderer.parsers.ORJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_METADATA_CLASS": "platform_project.metadata.MinimalMetadata",
    # Aware UTC datetimes are written with a "Z", as DRF's DateTimeField writes them.
    "ORJSON_RENDERER_OPTIONS": (orjson.OPT_UTC_Z,),
    "DEFAULT_PAGINATION_CLASS": "platform_project.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "platform_project.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": env("THROTTLE_LOGIN_IP", default="30/min"),
        "login_username": env("THROTTLE_LOGIN_USERNAME", default="10/min"),
        "signup_ip": env("THROTTLE_SIGNUP_IP", default="100/hour"),
        "message_post": env("THROTTLE_MESSAGE_POST", default="60/min"),
        "direct_open": env("THROTTLE_DIRECT_OPEN", default="30/hour"),
        # Account e-mails: requests that may send one, per recipient account or address and per
        # client; the token confirmations per client.
        "email_address": env("THROTTLE_EMAIL_ADDRESS", default="5/hour"),
        "password_reset_ip": env("THROTTLE_PASSWORD_RESET_IP", default="20/hour"),
        "email_change_user": env("THROTTLE_EMAIL_CHANGE_USER", default="10/hour"),
        "email_change_ip": env("THROTTLE_EMAIL_CHANGE_IP", default="20/hour"),
        "token_confirm_ip": env("THROTTLE_TOKEN_CONFIRM_IP", default="30/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # How many reverse proxies append to X-Forwarded-For. Unset: the throttles use the socket
    # address, so clients cannot dodge the per-address login limit by forging the header.
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=None),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": False,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Tokens carry a digest of the password hash they were issued under; a password change or
    # reset changes it, so every access and refresh token issued before stops working at once
    # (SPEC §7). JWTAuthentication checks it on every request, services.token_refresh on refresh.
    "CHECK_REVOKE_TOKEN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Learning Platform API",
    "DESCRIPTION": (
        "Learners subscribe to professionals' plans; a subscription opens the plan's course chat "
        "and unlocks the professional's content. Authenticate with "
        "`Authorization: Bearer <access>` from `POST /login`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX_TRIM": False,
    # Stable, readable enum names for generated clients (two `status` fields would otherwise be
    # named after whichever components they first appear in).
    "ENUM_NAME_OVERRIDES": {
        "SubscriptionStatusEnum": "subscriptions.models.SubscriptionStatus",
        "ReportStatusEnum": "chat.models.ReportStatus",
    },
    # <id:...> path segments (platform_project.converters) are integers, as SPEC names them.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "platform_project.schema.require_page_links",
        "platform_project.schema.add_error_components",
    ],
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}},
    # /docs and /redoc load their bundles from the project (drf-spectacular-sidecar), never a
    # CDN: they work on a closed network, under the CSP, and no CDN release runs on our origin.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge from the public validator service (a third-party request from the docs page).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO", "propagate": True},
        # One JSON line per request (platform_project.request_log); off with DJANGO_REQUEST_LOG=0.
        "platform_project.request": {
            "level": "INFO" if env.bool("DJANGO_REQUEST_LOG", default=not DEBUG) else "WARNING",
            "propagate": True,
        },
        # runserver's own access lines would duplicate ours.
        "django.server": {"level": "WARNING"},
    },
}
