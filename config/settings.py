"""Greenlight settings: one module, driven by environment variables.

Nothing set means the embedded default: SQLite in the project folder, Celery tasks run
eagerly in-process, and mail printed to the console. Set DATABASE_URL, CELERY_BROKER_URL
and SMTP_HOST to use PostgreSQL, a Redis broker and a real mail server. The README lists
every variable.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

# The key shipped for local use. A deployment with DEBUG off must set its own.
DEVELOPMENT_SECRET_KEY = "django-insecure-greenlight-local-development-only"  # noqa: S105


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value when DEBUG is off. Generate one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
SECRET_KEY = SECRET_KEY or DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The public address in emailed links: SITE_URL when set, otherwise the address `make run`
# serves on (its HOST and PORT), so `PORT=8100 make run` mails links to port 8100.
SITE_URL = (
    os.environ.get("SITE_URL")
    or f"http://{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}"
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    # Two-factor sign-in: authenticator apps (TOTP) and one-time backup codes. Before
    # accounts, whose admin replaces theirs.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "uat",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # No NUL reaches a view from a query or a form (config/inputs.py says why).
    "config.inputs.TextInputMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this sign-in passed the two-factor code step;
    # then Greenlight's gate keeps a sign-in that still owes that step (or an enrolment
    # its role requires) on the two-factor pages.
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

if not DEBUG:
    # In production gunicorn serves the collected static files itself (runserver does
    # in development).
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Every transaction takes SQLite's write lock when it begins: a check-then-insert
    # (one active waiver per defect) is serialized, and two writers never deadlock
    # upgrading a read lock ("database is locked").
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
# How long a password-reset link works, and a beta invitation link.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60 * 24)
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed static files served by WhiteNoise from gunicorn itself.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# The largest evidence file a tester may upload (screenshots, PDFs, text logs).
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)

# Mail: a real SMTP server when SMTP_HOST is set, otherwise printed to the console by
# Greenlight's own console mailer (accounts/mail_console.py): readable text with whole
# links, and attachments named rather than dumped in base64.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Greenlight <greenlight@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if os.environ.get("SMTP_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["SMTP_HOST"],
                "port": env_int("SMTP_PORT", 25),
                "username": os.environ.get("SMTP_USER", ""),
                "password": os.environ.get("SMTP_PASSWORD", ""),
                "use_tls": env_bool("SMTP_STARTTLS", False),
                "use_ssl": env_bool("SMTP_SSL", False),
                "timeout": env_int("SMTP_TIMEOUT", 30),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "accounts.mail_console.EmailBackend"}}

# Celery: real workers when a broker is configured, otherwise run tasks in-process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_TIMEZONE = TIME_ZONE
# Redis hands a task taken by a worker that died (acks_late) to another worker only after
# this many seconds. It must exceed the longest countdown of a retry (32 minutes for mail),
# or Redis would deliver those early, twice. Reports left behind sooner are the sweeper's.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}

# Reports and their emails (see reports/). The digest goes out daily at DIGEST_HOUR
# (in TIME_ZONE); reminders name assignments pending longer than REMINDER_AFTER_DAYS.
DIGEST_HOUR = env_int("DIGEST_HOUR", 7)
REMINDER_AFTER_DAYS = env_int("REMINDER_AFTER_DAYS", 3)
EMAIL_RETRY_DELAY = env_int("EMAIL_RETRY_DELAY", 60)  # seconds; doubled on each retry
# The sweeper (reports/jobs.py) queues again every kind of job the same way: a report or an
# evidence package pending (its task was lost or the broker was down) or running longer
# than its reclaim age (its worker died; by default the task's time limit, after which no
# live worker still runs it), a ready report's emails and a webhook delivery still
# outstanding — each only when its task was not queued, tried or due in the last
# REPORT_SWEEP_AFTER_SECONDS, so slow workers are not sent a copy every minute.
REPORT_SWEEP_AFTER_SECONDS = env_int("REPORT_SWEEP_AFTER_SECONDS", 120)
REPORT_RECLAIM_AFTER_SECONDS = env_int("REPORT_RECLAIM_AFTER_SECONDS", CELERY_TASK_TIME_LIMIT)
# The same for an evidence package, whose task may zip a release's files for half an hour
# (its time limit, in reports/tasks.py): reclaimed only once no live worker can be at it.
EVIDENCE_PACKAGE_RECLAIM_AFTER_SECONDS = env_int("EVIDENCE_PACKAGE_RECLAIM_AFTER_SECONDS", 1800)
# A ready report's emails still outstanding this long after it was built (far beyond the
# hour of mail retries: the email job keeps failing, or keeps getting lost) are given up:
# their pending deliveries are marked failed, for the dashboard and the admin, and the
# sweeper stops queueing the job.
REPORT_EMAILS_GIVE_UP_AFTER_SECONDS = env_int("REPORT_EMAILS_GIVE_UP_AFTER_SECONDS", 24 * 3600)
# Test-only: seconds a worker waits after claiming a report or an evidence package and
# before building it, so a fault test can kill it in the middle. Always 0 in production.
REPORT_BUILD_DELAY_SECONDS = env_int("REPORT_BUILD_DELAY_SECONDS", 0)
CELERY_BEAT_SCHEDULE: dict = {
    # QA leads and stakeholders start their day knowing where each plan in execution
    # stands and what broke yesterday, without opening the dashboard.
    "daily-digest": {
        "task": "reports.tasks.digest_task",
        "schedule": crontab(hour=DIGEST_HOUR, minute=0),
    },
    # Work left waiting stalls a plan's coverage: nudge each tester once a day, a little
    # after the digest so the two never compete for the mail server.
    "pending-assignment-reminders": {
        "task": "reports.tasks.reminders_task",
        "schedule": crontab(hour=DIGEST_HOUR, minute=15),
    },
    # A sign-off goes stale when the data under its report changes (or a waiver simply
    # expires, which no request announces): look every five minutes, so signers learn
    # soon that a new report is needed. Each signer is told once per report.
    "stale-signoff-notices": {
        "task": "reports.tasks.stale_signoffs_task",
        "schedule": crontab(minute="*/5"),
    },
    # A report, its emails, a webhook delivery or an evidence package whose task was lost
    # (the broker was down when it was queued, or its worker died) would wait forever:
    # look every minute.
    "report-sweeper": {
        "task": "reports.tasks.reports_sweep_task",
        "schedule": crontab(minute="*"),
    },
}

# How many proxies in front of Greenlight append to X-Forwarded-For (0: none, the
# client is REMOTE_ADDR). Behind one proxy, 1: the client is the address that proxy saw.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        # A browser session counts only once it passed the two-factor step it owes.
        "accounts.authentication.VerifiedSessionAuthentication",
    ],
    # Signed in; a release pipeline only on the views naming it (uat/api/permissions.py).
    "DEFAULT_PERMISSION_CLASSES": ["uat.api.permissions.SignedIn"],
    "DEFAULT_SCHEMA_CLASS": "uat.api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "uat.api.pagination.Pagination",
    # JSON refusing text that cannot be stored (NUL, lone surrogates): config/inputs.py.
    "DEFAULT_PARSER_CLASSES": [
        "config.inputs.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        # Filters on a related record compare ids: no "that choice does not exist".
        "uat.api.fields.ScopedFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "EXCEPTION_HANDLER": "uat.api.errors.exception_handler",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT or None,
    "DEFAULT_THROTTLE_CLASSES": [
        "uat.api.throttling.AnonRateThrottle",
        "uat.api.throttling.UserRateThrottle",
    ],
}
# Requests per signed-in user (or token) and per network address without one; "" is off.
API_RATE_USER = os.environ.get("API_RATE_USER", "1000/hour")
API_RATE_ANON = os.environ.get("API_RATE_ANON", "60/hour")

# The cache holds the API's rate-limit counts. Per process by default; set CACHE_URL
# (redis://host:6379/1) to share it between gunicorn processes and hosts.
if os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The API schema, its Swagger docs and the browsable API describe every endpoint and
# field: open to anyone with DEBUG on; with DEBUG off behind sign-in unless opened here.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)

# Webhooks go only to public addresses (reports/outbound.py); these host names, as
# written in a webhook's URL, are allowed anyway (a receiver on the internal network).
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS")

SPECTACULAR_SETTINGS = {
    "TITLE": "Greenlight API",
    "DESCRIPTION": "User acceptance testing: plans, executions, defects, reports and the gate.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The interactive docs load Swagger UI from our own static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "ReleaseStageEnum": "uat.models.catalog.ReleaseStage",
        "ReleaseKindEnum": "uat.models.catalog.ReleaseKind",
        "GateStageEnum": "reports.gate.GATE_STAGE_CHOICES",
        "GateDecisionEnum": "reports.models.GateVerdict",
        "GateSignoffStatusEnum": "reports.gate.SIGNOFF_STATUSES",
        "ReportStatusEnum": "reports.models.ReportStatus",
        "ReportDecisionEnum": "reports.models.ReportDecision",
        "SignOffDecisionEnum": "uat.models.planning.SignOffDecision",
        "SignOffStateEnum": "reports.currency.SIGNOFF_STATES",
        "PriorityEnum": "uat.models.catalog.Priority",
        "CaseStatusEnum": "uat.models.catalog.CaseStatus",
        "PlanStatusEnum": "uat.models.planning.PlanStatus",
        "ExecutionStatusEnum": "uat.models.execution.ExecutionStatus",
        "StepStatusEnum": "uat.models.execution.StepStatus",
        "DefectStatusEnum": "uat.models.defects.DefectStatus",
    },
}

# Security. Strict Content-Security-Policy everywhere: no inline scripts or styles.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)

if not DEBUG:
    # HTTPS on by default in production; a TLS-terminating proxy sets X-Forwarded-Proto.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs go to standard output, one line per record: plain text for people, or JSON
# (LOG_FORMAT=json) for a log collector. Passwords and secrets are never logged.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "filters": {"redact_secrets": {"()": "config.logging.RedactSecretsFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if os.environ.get("LOG_FORMAT") == "json" else "plain",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint and fontTools narrate every step of every PDF at INFO.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Sign-in: LOGIN_MAX_FAILURES failures in a row for one email address from one network
# address within LOGIN_LOCKOUT_MINUTES lock sign-in for that address from there for as
# long (tester page and admin alike); LOGIN_MAX_FAILURES_PER_ACCOUNT in a row from
# anywhere lock it everywhere (guessing spread over many machines). A password reset
# lifts both. The per-network-address limit (any email address) is off by default.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 50)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
LOGIN_MAX_FAILURES_PER_IP = env_int("LOGIN_MAX_FAILURES_PER_IP", 0)

# Two-factor sign-in (TOTP authenticator apps, with one-time backup codes). Optional for
# everyone; OTP_REQUIRED_ROLES names the roles that must use it (comma-separated group
# names, e.g. "QA lead,Stakeholder,Admin"; superusers count as Admin) and "Signer" for
# anyone named as a signer of a plan's required sign-off. Wrong codes count like wrong
# passwords: LOGIN_MAX_FAILURES in a row lock the code step for LOGIN_LOCKOUT_MINUTES.
OTP_SIGNER = "Signer"
_OTP_ROLE_NAMES = {
    name.lower(): name
    for name in ("Tester", "QA lead", "Stakeholder", "Admin", "Release pipeline", OTP_SIGNER)
}
_otp_roles = env_list("OTP_REQUIRED_ROLES")
if unknown := [name for name in _otp_roles if name.lower() not in _OTP_ROLE_NAMES]:
    raise ImproperlyConfigured(
        f"OTP_REQUIRED_ROLES names unknown roles {unknown}; choose from "
        f"{', '.join(sorted(_OTP_ROLE_NAMES.values()))}."
    )
OTP_REQUIRED_ROLES = [_OTP_ROLE_NAMES[name.lower()] for name in _otp_roles]
OTP_TOTP_ISSUER = os.environ.get("OTP_ISSUER", "Greenlight")
# The device admin must never show a secret key or a backup code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
OTP_LOGIN_URL = "accounts:two_factor_verify"
BACKUP_CODES_COUNT = 10

# Electronic signatures: wrong passwords in a row before signing locks, and for how long.
SIGNING_MAX_FAILURES = env_int("SIGNING_MAX_FAILURES", 5)
SIGNING_LOCKOUT_MINUTES = env_int("SIGNING_LOCKOUT_MINUTES", 15)

# Demo data: every demo user gets this password (printed by `make run`).
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "greenlight-demo")
