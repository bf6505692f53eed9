"""Settings for Social CRM, read from the environment only.

Every variable is documented in the README's configuration table. The defaults run a
bare checkout: SQLite under ``var/``, Celery tasks in-process, mail to the console.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue
from redis.backoff import NoBackoff
from redis.retry import Retry

from socialcrm.env import env_bool, env_int, env_list, env_str, socialaccount_providers

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-local-development-key-never-used-in-production"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
TIME_ZONE = env_str("TIME_ZONE", "UTC")
# Two-letter region for phone numbers typed without a country code (e.g. GB, DE, US).
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION").upper()
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_filters",
    "django_htmx",
    "socialcrm",
    "socialcrm.audit",
    "contacts",
    "enrichment",
    "consent",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Gives each request an id (X-Request-ID) that audit events record.
    "socialcrm.audit.middleware.RequestIdMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "socialcrm.urls"
WSGI_APPLICATION = "socialcrm.wsgi.application"
AUTH_USER_MODEL = "socialcrm.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
                "socialcrm.context_processors.navigation",
                "contacts.context_processors.reminder_bell",
            ],
        },
    },
    {
        # The hottest fragments (list and timeline rows, the biggest contact panels), compiled to
        # Python; see socialcrm/jinja.py.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "socialcrm.jinja.environment"},
    },
]
# Form widgets render with Jinja2 where Django ships the template for it (socialcrm/renderers.py).
FORM_RENDERER = "socialcrm.renderers.FormRenderer"

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'socialcrm.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let the demo server and in-process tasks write
    # concurrently without "database is locked" errors.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# --- Redis: broker and cache -------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# One quick retry, no backoff: a cache that is down should cost milliseconds, not seconds.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2, "retry": Retry(NoBackoff(), 1)}
if REDIS_URL:
    CACHES = {
        "default": {
            # Degrades to no cache while Redis is unreachable instead of failing requests.
            "BACKEND": "socialcrm.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "socialcrm",
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    # A file cache is shared by every process on the machine, so allauth's rate limits
    # hold across web workers even without Redis.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery (read by socialcrm/celery.py with namespace="CELERY") ------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
# Without a broker, tasks run in-process when they are enqueued (after commit).
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
# On connection loss a worker cannot acknowledge its running late-ack tasks any more, and
# Redis hands them out again anyway: cancel them rather than run them twice at once.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis re-delivers an unacknowledged task after visibility_timeout. It must exceed the
    # hard time limit, or a long task would run twice while the first run is still going.
    "visibility_timeout": max(3600, 2 * CELERY_TASK_TIME_LIMIT),
    # Publishing from a web request must give up fast when Redis is unreachable. The read
    # timeout stays above the transport's 1 s BRPOP wait so idle workers are not cut off.
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers keep reconnecting (every 30 s at most) however long Redis is away; Celery's
# default stops them after 100 attempts. Publishing has its own, short policy below.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Publishing from a web request gives up quickly; the outbox relay publishes it later.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Explicit queues so a worker can be pointed at a subset (-Q privacy); see docs/background-tasks.md.
# Each has its own routing key: without one, all three would be bound to the key "default".
CELERY_TASK_QUEUES = tuple(Queue(name, routing_key=name) for name in ("default", "enrichment", "privacy"))
CELERY_TASK_ROUTES = {
    "enrichment.tasks.*": {"queue": "enrichment"},
    "consent.tasks.*": {"queue": "privacy"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Publishes tasks whose on-commit publish failed (broker down); see socialcrm/outbox.py.
    # Ticks expire before the next one, so they don't pile up while no worker is running.
    "relay-outbox": {"task": "socialcrm.tasks.relay_outbox", "schedule": 30.0, "options": {"expires": 25}},
    # Queues one IMAP sync per connected mailbox (contacts/tasks_email.py); each sync claims its
    # mailbox with a lease, so a slow one is never run twice at once.
    "email-mailbox-sync": {"task": "contacts.tasks_email.sync_mailboxes", "schedule": 60.0, "options": {"expires": 55}},
    # Re-asks providers about contacts whose profiles are older than ENRICHMENT_REFRESH_DAYS (only
    # where the gate still allows enrichment) and deletes profiles past ENRICHMENT_PROFILE_MAX_AGE_DAYS.
    "enrichment-refresh": {
        "task": "enrichment.tasks.refresh_stale_profiles",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    # Reads the feeds of accepted profiles every ENRICHMENT_LISTENING_MINUTES (where the gate
    # allows social listening); new public posts land on the contact's timeline.
    "enrichment-listening": {
        "task": "enrichment.tasks.listen_sweep",
        "schedule": 300.0,
        "options": {"expires": 240},
    },
    # Reminders falling due: makes each "due" notification once and emails it (contacts/tasks.py).
    "reminders-due": {"task": "contacts.tasks.reminders_due_tick", "schedule": 60.0, "options": {"expires": 55}},
    # Keep-in-touch and awaiting-reply nudges for the contacts whose clocks ran out.
    "reminders-nudges": {"task": "contacts.tasks.reminders_nudge_tick", "schedule": 60.0, "options": {"expires": 55}},
    # Daily digests, made once per user and local day when their chosen hour comes.
    "reminders-digests": {"task": "contacts.tasks.reminders_digest_tick", "schedule": 60.0, "options": {"expires": 55}},
    # Imports and email uploads whose worker was lost mid-run are marked failed (an upload's
    # file, an import's stored plan deleted) after 30 minutes without progress
    # (contacts/services/jobs.py).
    "stalled-jobs": {"task": "contacts.tasks.stalled_jobs_fail", "schedule": 300.0, "options": {"expires": 240}},
}

# --- Enrichment: the outbound HTTP client (enrichment/http.py) and its providers ----------
# Private/loopback destinations (and any port) only for tests and local fake providers.
ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = env_bool("ENRICHMENT_ALLOW_PRIVATE_ADDRESSES", False)
ENRICHMENT_HTTP_TIMEOUT = env_int("ENRICHMENT_HTTP_TIMEOUT", 5)  # seconds, connect and each read
ENRICHMENT_HTTP_BUDGET = env_int("ENRICHMENT_HTTP_BUDGET", 15)  # seconds for a whole request
ENRICHMENT_MAX_BODY_BYTES = env_int("ENRICHMENT_MAX_BODY_BYTES", 1_048_576)
ENRICHMENT_USER_AGENT = f"SocialCRM/0.1 (+{SITE_URL})"
ENRICHMENT_GRAVATAR_URL = env_str("ENRICHMENT_GRAVATAR_URL", "https://api.gravatar.com/v3").rstrip("/")
ENRICHMENT_GRAVATAR_LEGACY_URL = env_str("ENRICHMENT_GRAVATAR_LEGACY_URL", "https://en.gravatar.com").rstrip("/")
ENRICHMENT_GITHUB_API_URL = env_str("ENRICHMENT_GITHUB_API_URL", "https://api.github.com").rstrip("/")
ENRICHMENT_GITHUB_EMAIL_SEARCH = env_bool("ENRICHMENT_GITHUB_EMAIL_SEARCH", False)
ENRICHMENT_BLUESKY_API_URL = env_str("ENRICHMENT_BLUESKY_API_URL", "https://public.api.bsky.app").rstrip("/")
ENRICHMENT_PLC_DIRECTORY_URL = env_str("ENRICHMENT_PLC_DIRECTORY_URL", "https://plc.directory").rstrip("/")
ENRICHMENT_ALLOWED_FIELDS = env_list(
    "ENRICHMENT_ALLOWED_FIELDS",
    ["display_name", "avatar_url", "bio", "location", "company", "title", "links", "feeds"],
)
GRAVATAR_API_KEY = env_str("GRAVATAR_API_KEY")
GITHUB_TOKEN = env_str("GITHUB_TOKEN")
# The pipeline (enrichment/tasks.py, enrichment/resilience.py; docs/enrichment.md).
# Look a contact up when it is created or gets a new email/website/handle. Off by default
# without a broker: the lookups would run inside the web request that saved the contact.
ENRICHMENT_AUTOMATIC = env_bool("ENRICHMENT_AUTOMATIC", bool(REDIS_URL))
ENRICHMENT_RATE_PER_SECOND = env_int("ENRICHMENT_RATE_PER_SECOND", 5)  # lookups per provider, all workers together
ENRICHMENT_RATE_BURST = env_int("ENRICHMENT_RATE_BURST", 10)
ENRICHMENT_MAX_RETRIES = env_int("ENRICHMENT_MAX_RETRIES", 5)  # per lookup, for transient errors
ENRICHMENT_BREAKER_FAILURES = env_int("ENRICHMENT_BREAKER_FAILURES", 5)  # consecutive failures open the breaker
ENRICHMENT_BREAKER_MINUTES = env_int("ENRICHMENT_BREAKER_MINUTES", 10)
ENRICHMENT_NEGATIVE_CACHE_DAYS = env_int("ENRICHMENT_NEGATIVE_CACHE_DAYS", 30)  # "nothing found" stands this long
ENRICHMENT_REFRESH_DAYS = env_int("ENRICHMENT_REFRESH_DAYS", 30)
ENRICHMENT_PROFILE_MAX_AGE_DAYS = env_int("ENRICHMENT_PROFILE_MAX_AGE_DAYS", 90)  # retention of unrefreshed profiles
ENRICHMENT_LISTENING_MINUTES = env_int("ENRICHMENT_LISTENING_MINUTES", 60)
ENRICHMENT_LISTENING_LOOKBACK_DAYS = env_int("ENRICHMENT_LISTENING_LOOKBACK_DAYS", 14)  # older posts are not imported

# --- Email ------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Social CRM <crm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Email into the timeline (contacts/email/) -----------------------------------------------
# Shared secret of the inbound-email relay: it signs each POST to the team dropbox webhook
# (HMAC-SHA256 over "<timestamp>." + body). Empty: the webhook rejects everything.
INBOUND_EMAIL_SECRET = env_str("INBOUND_EMAIL_SECRET")
# Seconds a signed webhook request stays valid (and how long its signature is remembered, twice that).
INBOUND_EMAIL_TOLERANCE = env_int("INBOUND_EMAIL_TOLERANCE", 300)
# One message (webhook body, or one message of an upload) larger than this is refused (413) or reported.
EMAIL_MAX_MESSAGE_BYTES = env_int("EMAIL_MAX_MESSAGE_BYTES", 10 * 1_048_576)
# An uploaded .eml/.mbox file larger than this is refused.
EMAIL_MAX_UPLOAD_BYTES = env_int("EMAIL_MAX_UPLOAD_BYTES", 50 * 1_048_576)
# Uploads up to this size are logged within the request (the result shows at once); larger
# ones are kept on a job and logged by a Celery task while a page shows the progress.
EMAIL_UPLOAD_SYNC_BYTES = env_int("EMAIL_UPLOAD_SYNC_BYTES", 2 * 1_048_576)
# Key material for mailbox (IMAP) passwords at rest. Required with DEBUG off (system check
# contacts.E001); in development it is derived from SECRET_KEY when empty.
EMAIL_ENCRYPTION_KEY = env_str("EMAIL_ENCRYPTION_KEY")
# Mail servers the sync may reach although they are not on the public internet: host names
# (as users type them), IP addresses or networks (CIDR). Tests and the demo use loopback Dovecot.
EMAIL_IMAP_ALLOWED_HOSTS = env_list("EMAIL_IMAP_ALLOWED_HOSTS", [])
EMAIL_IMAP_TIMEOUT = env_int("EMAIL_IMAP_TIMEOUT", 20)  # seconds, connect and each command
EMAIL_IMAP_SYNC_MINUTES = env_int("EMAIL_IMAP_SYNC_MINUTES", 5)

# --- Accounts (django-allauth) -------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Social CRM] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_ADAPTER = "socialcrm.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "socialcrm.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_ONLY = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Social CRM"

# Company single sign-on over OpenID Connect (OIDC_SERVER_URL, OIDC_CLIENT_ID,
# OIDC_CLIENT_SECRET, OIDC_NAME), on only when the first three are set.
SOCIALACCOUNT_PROVIDERS = socialaccount_providers()

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Privacy (consent app) ----------------------------------------------------------------
# The controller named on consent receipts (Kantara consent-receipt fields).
PRIVACY_CONTROLLER_NAME = env_str("PRIVACY_CONTROLLER_NAME", "Social CRM")
PRIVACY_CONTROLLER_CONTACT = env_str("PRIVACY_CONTROLLER_CONTACT", "Data protection officer")
PRIVACY_CONTROLLER_ADDRESS = env_str("PRIVACY_CONTROLLER_ADDRESS", "")
PRIVACY_CONTROLLER_COUNTRY = env_str("PRIVACY_CONTROLLER_COUNTRY", "")
PRIVACY_CONTROLLER_EMAIL = env_str("PRIVACY_CONTROLLER_EMAIL", "privacy@localhost")
PRIVACY_CONTROLLER_PHONE = env_str("PRIVACY_CONTROLLER_PHONE", "")
PRIVACY_POLICY_URL = env_str("PRIVACY_POLICY_URL", "")
PRIVACY_JURISDICTION = env_str("PRIVACY_JURISDICTION", "EU")
# Key of the suppression list's HMACs. Set it in production: when empty it is derived from
# SECRET_KEY, and rotating SECRET_KEY would then silently empty the list.
SUPPRESSION_KEY = env_str("SUPPRESSION_KEY", "")

# --- Contact import (contacts/services/imports.py) -----------------------------------------
# Largest file accepted (bytes); its decoded text is kept on the import job until undone.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security headers ---------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# Sessions read from the cache (Redis, else the file cache) and written through to the
# database: one query fewer on every page (the contact page's budget is 10 in all).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
