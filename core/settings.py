"""The one typed settings object, built once from the environment and/or a TOML file.

Environment variables use the prefix ``INTAKE_`` and ``__`` between nested names, e.g.
``INTAKE_DATABASE_URL``, ``INTAKE_SMTP__HOST``, ``INTAKE_POLICY__NATION``. A TOML file named by
``INTAKE_CONFIG`` (or ``--config``) supplies the same names as tables; the environment wins.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from core.errors import ConfigurationError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Section(BaseModel):
    """A table of settings. Invariant: a key it does not define is an error naming it, never ignored,
    so a misspelt setting (``[smtp] hostname``) cannot silently fall back to its default."""

    model_config = ConfigDict(extra="forbid")


class LandlordSettings(Section):
    name: str = "Example Homes"
    address: list[str] = ["Example Homes", "1 High Street", "Exampletown", "EX1 1AA"]
    email: str = "complaints@example.org"
    phone: str = "0300 000 0000"
    website: str = "www.example.org"
    complaints_policy_url: str = "www.example.org/complaints"
    welsh: bool = False  # a landlord in Wales: public pages in Welsh and English, Welsh writers answered in Welsh


class PolicySettings(Section):
    """The complaint policy. Defaults are the Housing Ombudsman Complaint Handling Code 2024."""

    nation: Literal["ENG", "WLS", "SCT", "NIR"] = "ENG"
    closure_days: list[dt.date] = []
    closing_time: dt.time | None = None  # receipt after this counts as the next working day
    timezone: str = "Europe/London"
    stage1_ack_days: int = Field(default=5, ge=0)
    stage1_response_days: int = Field(default=10, ge=0)
    stage1_response_from: Literal["acknowledgement", "receipt"] = "acknowledgement"
    stage1_extension_days: int = Field(default=10, ge=0)
    stage2_ack_days: int = Field(default=5, ge=0)
    stage2_response_days: int = Field(default=20, ge=0)
    stage2_extension_days: int = Field(default=20, ge=0)
    time_limit_months: int = Field(default=12, ge=0)
    emergency_hazard_hours: int = Field(default=24, ge=0)
    damp_mould_investigation_days: int = Field(default=10, ge=0)
    damp_mould_summary_days: int = Field(default=3, ge=0)  # written summary, working days after the investigation concludes
    damp_mould_safe_days: int = Field(default=5, ge=0)  # made safe, working days after the investigation concludes
    frontline_resolution_days: int = Field(default=0, ge=0)  # an informal step before stage 1 (the Code bans it)
    escalation_requires_reasons: bool = False
    escalation_window_days: int | None = Field(default=None, ge=0)  # calendar days after stage 1 response
    auto_close_after_days: int | None = Field(default=None, ge=0)  # working days after stage 1 outcome

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except ZoneInfoNotFoundError:  # a KeyError, which pydantic would let through as a traceback
            raise ValueError(f"no time zone called {value!r} (e.g. Europe/London)") from None
        return value


def read_secret_file(path: Path, setting: str) -> str:
    """A secret kept in a file (a container's /run/secrets/...), without the newline editors add.
    Raises ValueError naming the setting when the file cannot be read or holds nothing."""
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ValueError(f"{setting}: cannot read {path} ({reason})") from None
    if not secret:
        raise ValueError(f"{setting}: {path} is empty")
    return secret


def secret_from(section: BaseModel, name: str, *, required: bool) -> None:
    """``name`` given inline or as ``name_file`` (read now, into ``name``): never both; if required, one."""
    inline, path = getattr(section, name), getattr(section, f"{name}_file")
    if inline is not None and path is not None:
        raise ValueError(f"give {name} or {name}_file, not both")
    if path is not None:
        setattr(section, name, read_secret_file(path, f"{name}_file"))
    elif inline is None and required:
        raise ValueError(f"{name} (or {name}_file) is required")


class OAuth2Settings(Section):
    """What both providers need to hand out access tokens for XOAUTH2 (core/oauth.py).

    Invariant: after validation ``client_secret`` holds the secret (read from ``client_secret_file``
    when given that way). A token is renewed once fewer than ``refresh_minutes`` of its life remain; a
    secret or refresh token with an ``*_expires_on`` date within ``warn_days`` is warned about (log,
    `intake doctor`, /metrics, the staff app's operations page)."""

    client_id: str
    client_secret: str | None = Field(default=None, repr=False)
    client_secret_file: Path | None = None
    secret_expires_on: dt.date | None = None  # Entra ID shows it beside the secret; Google's rarely expire
    refresh_minutes: float = Field(default=5.0, gt=0)
    warn_days: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _read_client_secret(self) -> OAuth2Settings:
        secret_from(self, "client_secret", required=True)
        return self


class MicrosoftOAuth2Settings(OAuth2Settings):
    """Microsoft 365: an Entra ID app with the client-credentials grant (an application mailbox: the
    app has IMAP.AccessAsApp / SMTP.SendAsApp and an Exchange service principal for the mailbox)."""

    provider: Literal["microsoft"]
    tenant_id: str
    authority: str | None = None  # None: https://login.microsoftonline.com/<tenant_id>; must be https
    scopes: list[str] = ["https://outlook.office365.com/.default"]

    @field_validator("authority")
    @classmethod
    def _https_authority(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError(f"must be an https URL like https://login.microsoftonline.com/<tenant_id>, not {value!r}")
        return value.rstrip("/") if value else value

    @property
    def authority_url(self) -> str:
        return self.authority or f"https://login.microsoftonline.com/{self.tenant_id}"


class GoogleOAuth2Settings(OAuth2Settings):
    """Gmail / Google Workspace: a refresh token the mailbox's owner granted once (scope
    https://mail.google.com/), exchanged at ``token_url`` for access tokens. Invariant: after
    validation ``refresh_token`` holds it (read from ``refresh_token_file`` when given that way)."""

    provider: Literal["google"]
    refresh_token: str | None = Field(default=None, repr=False)
    refresh_token_file: Path | None = None
    refresh_token_expires_on: dt.date | None = None  # e.g. seven days on for an app still in "testing"
    token_url: str = "https://oauth2.googleapis.com/token"
    scopes: list[str] = ["https://mail.google.com/"]

    @model_validator(mode="after")
    def _read_refresh_token(self) -> GoogleOAuth2Settings:
        secret_from(self, "refresh_token", required=True)
        return self


class ImapSourceSettings(Section):
    """One IMAP folder. It logs in with ``password`` (or ``password_file``) or, for Microsoft 365 and
    Gmail, with ``[imap.oauth2]`` (XOAUTH2): exactly one of the two. Invariant: after validation a
    password login has ``password`` set, read from ``password_file`` when given that way."""

    name: str
    host: str
    port: int = 993
    security: Literal["tls", "starttls", "none"] = "tls"
    username: str
    password: str | None = Field(default=None, repr=False)
    password_file: Path | None = None
    oauth2: MicrosoftOAuth2Settings | GoogleOAuth2Settings | None = Field(default=None, discriminator="provider")
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    timeout_seconds: float = 30.0

    @model_validator(mode="after")
    def _password_or_oauth2(self) -> ImapSourceSettings:
        if self.oauth2 is not None and (self.password is not None or self.password_file is not None):
            raise ValueError("give password (or password_file) or [oauth2], not both")
        if self.oauth2 is None:
            secret_from(self, "password", required=True)
        return self


class MaildirSourceSettings(Section):
    name: str
    path: Path


class LetterSourceSettings(Section):
    name: str = "letters"
    path: Path
    receipt_date_from: Literal["convention", "mtime"] = "convention"
    ocr_languages: str = "eng"
    min_ocr_confidence: float = 60.0
    print_dir: Path | None = None  # None: var_dir / "print"; printable reply letters land here
    large_print: bool = False
    # The post room's daily cut, local time: a day's batch file (print_dir/batches/) holds the letters printed
    # since the day before's cut; the worker writes it at this time. None: the calendar day, cut by
    # `intake print batch` alone (run by cron).
    print_batch_time: dt.time | None = dt.time(15, 0)


class SmtpSettings(Section):
    """Where acknowledgements go out. With a ``username`` it logs in with ``password`` (or
    ``password_file``) or with ``[smtp.oauth2]`` (XOAUTH2), never both; without one it does not log in."""

    host: str | None = None  # None: the file transport writes .eml files under var/
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    password_file: Path | None = None
    oauth2: MicrosoftOAuth2Settings | GoogleOAuth2Settings | None = Field(default=None, discriminator="provider")
    timeout_seconds: float = 30.0

    @model_validator(mode="after")
    def _password_or_oauth2(self) -> SmtpSettings:
        if self.oauth2 is not None and (self.password is not None or self.password_file is not None):
            raise ValueError("give password (or password_file) or [oauth2], not both")
        if self.oauth2 is not None and not self.username:
            raise ValueError("[oauth2] needs username (the mailbox that sends)")
        secret_from(self, "password", required=False)
        return self


class OutboxSettings(Section):
    """The outbox and its sender. A temporary failure (4xx, refused connection, timeout) is retried
    with back-off doubling from ``backoff_seconds`` up to ``max_backoff_seconds``, for as long as it
    takes: it never fails for good. The row is marked at risk (and its case told) once its case's
    acknowledgement clock is due within ``at_risk_hours_before_due`` hours, or, for a row with no
    such clock, once it has waited ``at_risk_after_hours``; it keeps being retried after that."""

    max_acks_per_sender_per_day: int = Field(default=3, ge=1)
    backoff_seconds: float = Field(default=60.0, gt=0)
    max_backoff_seconds: float = Field(default=1800.0, gt=0)  # Postfix's maximal_backoff_time is 4000 s
    at_risk_hours_before_due: float = Field(default=24.0, ge=0)
    at_risk_after_hours: float = Field(default=24.0, gt=0)
    max_interrupted_sends: int = Field(default=5, ge=1)  # sender died mid-send this often: failed, for a person
    batch_size: int = Field(default=50, ge=1)


class ClassifierSettings(Section):
    model_path: Path | None = None  # None: the model shipped in classifier/models/
    confidence_threshold: float | None = None  # None: the threshold stored with the model


class ReferenceSettings(Section):
    format: str = "{prefix}-{year}-{number:06d}"
    prefixes: dict[str, str] = {
        "complaint": "CMP",
        "service_request": "SR",
        "compliment": "CPL",
        "out_of_scope": "GEN",
    }


class WebSettings(Section):
    """The staff web app (`intake serve`)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secure_cookies: bool = True  # browsers send Secure cookies to localhost; behind TLS in production
    behind_proxy: bool = False  # trust X-Forwarded-For / -Proto from the reverse proxy in front


class FiguresSettings(Section):
    """What the managers' figures (`/figures`, `intake report tsm`) need that the cases do not hold.

    Invariant: after validation ``homes`` is the number CH01 divides by, or None when neither setting
    is given. Given only ``homes_by_stock_type``, ``homes`` is their sum; given both, they must agree
    (two numbers of homes that disagree would make CH01 depend on which one was read).
    """

    homes: int | None = Field(default=None, ge=1)  # homes owned, for CH01's "per 1,000 homes"
    homes_by_stock_type: dict[str, int] = {}  # e.g. {"LCRA" = 9000, "LCHO" = 500}; their sum when homes is not set

    @field_validator("homes_by_stock_type")
    @classmethod
    def _counts_of_homes(cls, value: dict[str, int]) -> dict[str, int]:
        negative = [f"{stock}={count}" for stock, count in value.items() if count < 0]
        if negative:
            raise ValueError(f"a number of homes cannot be negative: {', '.join(negative)}")
        if value and sum(value.values()) < 1:
            raise ValueError("the stock types add up to no homes at all")
        return value

    @model_validator(mode="after")
    def _homes_from_stock_types(self) -> FiguresSettings:
        total = sum(self.homes_by_stock_type.values())
        if self.homes is None and self.homes_by_stock_type:
            self.homes = total
        elif self.homes_by_stock_type and self.homes != total:
            raise ValueError(f"homes={self.homes} but homes_by_stock_type adds up to {total}: give one, "
                             "or make them agree")
        return self


class PublicSettings(Section):
    """The residents' public pages: the complaints form (/report) and "where is my complaint?" (/status).

    Branding: the landlord's name, phone and website come from [landlord]; ``colour`` is the header
    and button colour (white text sits on it, so it must reach 4.5:1 against white); ``logo`` is a
    PNG or JPEG file shown in the header (served at /report/logo). Limits: at most ``max_files``
    files of ``max_file_bytes`` each, and ``max_request_bytes`` for the whole form (refused before
    it is read); per client address, ``report_per_minute``/``report_per_hour`` forms and
    ``status_per_minute``/``status_per_hour`` look-ups."""

    enabled: bool = True
    colour: str = "#1d70b8"
    logo: Path | None = None
    max_files: int = Field(default=5, ge=0, le=20)
    max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_request_bytes: int = Field(default=20 * 1024 * 1024, ge=64 * 1024)
    report_per_minute: int = Field(default=5, ge=1)
    report_per_hour: int = Field(default=30, ge=1)
    status_per_minute: int = Field(default=10, ge=1)
    status_per_hour: int = Field(default=40, ge=1)

    @field_validator("colour")
    @classmethod
    def _readable_colour(cls, value: str) -> str:
        """A #rrggbb colour that white text on it (and it as text on white) reads at 4.5:1 (WCAG AA)."""
        digits = value.strip().lstrip("#")
        if len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError(f"must be a colour like #1d70b8, not {value!r}")

        def linear(channel: int) -> float:
            c = channel / 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        red, green, blue = (linear(int(digits[i:i + 2], 16)) for i in (0, 2, 4))
        ratio = 1.05 / (0.2126 * red + 0.7152 * green + 0.0722 * blue + 0.05)
        if ratio < 4.5:
            raise ValueError(f"{value} is too light: white text on it has a contrast of {ratio:.1f}:1, "
                             "WCAG AA needs 4.5:1")
        return f"#{digits.lower()}"

    @field_validator("logo")
    @classmethod
    def _png_or_jpeg(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        try:
            head = Path(value).read_bytes()[:8]
        except OSError as exc:
            raise ValueError(f"cannot read {value}: {exc.strerror}") from None
        if not (head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff")):
            raise ValueError(f"{value} is not a PNG or JPEG file")
        return value


class LimitsSettings(Section):
    """How much work one message may take. Reading it (parsing, the quoting rules, classifying) runs
    under a budget of ``processing_seconds`` (0: no budget); a message over it is stored, set aside
    for a person with a reason, and the worker moves on. A message whose processing killed the worker
    (out of memory, a crash) ``set_aside_after_deaths`` times is set aside as a poison message."""

    processing_seconds: float = Field(default=10.0, ge=0)
    set_aside_after_deaths: int = Field(default=2, ge=1)
    # A message started by a worker on another host this long ago and not finished was being read by a
    # worker that died (on this host a dead process is seen at once); a younger start means that worker
    # is on it now, so it is left alone and not counted as a death.
    stalled_after_seconds: float = Field(default=60.0, gt=0)


class WorkersSettings(Section):
    """Several workers, on one machine or several (issue 16): one poller per source by a lease in the
    database (casework/leases.py; the README's "Several workers"). The holder renews every third of
    ``lease_seconds``; the others try for the lease as often."""

    lease_seconds: float = Field(default=60.0, gt=0)  # a holder that has not renewed for this long is taken over


class AlertSettings(Section):
    """Alert emails to the people who run the service (issue 16): a source silent too long, an
    acknowledgement clock about to be missed, the outbox failing. Owned by the health work."""

    to: str | None = None  # None: no alert emails (the log, /metrics and `intake doctor` still tell)
    check_minutes: float = Field(default=5.0, gt=0)  # how often the worker looks (the alert job's interval)
    repeat_minutes: float = Field(default=240.0, gt=0)  # one email per condition per this long at most
    source_silent_minutes: float = Field(default=30.0, gt=0)  # a source with no successful poll this long
    clock_warning_hours: float = Field(default=24.0, ge=0)  # an acknowledgement clock due within this long
    outbox_failing_minutes: float = Field(default=30.0, gt=0)  # a row tried and still unsent this long after queued
    # /metrics: None answers anyone (it holds no personal data); set, it needs "Authorization: Bearer <token>".
    metrics_token: str | None = None


class RetentionSettings(Section):
    """How long records are kept (`intake retention`; casework/retention.py). A case closed more than
    ``closed_case_years`` ago goes with everything held for it (six years: the Limitation Act's period
    for a claim, which the Ombudsman and data protection guidance take as the usual keeping time). A
    submission that never became a case (an auto-reply, a duplicate, spam) goes
    ``caseless_submission_days`` after it arrived: a year, so a resident who says within the Code's
    twelve months that they wrote and heard nothing can still be shown what arrived."""

    closed_case_years: int = Field(default=6, ge=1)
    caseless_submission_days: int = Field(default=365, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", env_nested_delimiter="__", extra="forbid")

    var_dir: Path = Path("var")
    database_url: str | None = None  # None: a SQLite file under var_dir
    database_url_file: Path | None = None  # the URL (with its password) kept in a file: a container's secret
    log_level: str = "INFO"
    poll_seconds: float = Field(default=60.0, gt=0)
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=0)
    landlord: LandlordSettings = LandlordSettings()
    policy: PolicySettings = PolicySettings()
    imap: list[ImapSourceSettings] = []
    maildir: list[MaildirSourceSettings] = []
    letters: LetterSourceSettings | None = None
    smtp: SmtpSettings = SmtpSettings()
    outbox: OutboxSettings = OutboxSettings()
    classifier: ClassifierSettings = ClassifierSettings()
    references: ReferenceSettings = ReferenceSettings()
    web: WebSettings = WebSettings()
    figures: FiguresSettings = FiguresSettings()
    public: PublicSettings = PublicSettings()
    limits: LimitsSettings = LimitsSettings()
    workers: WorkersSettings = WorkersSettings()
    alerts: AlertSettings = AlertSettings()
    retention: RetentionSettings = RetentionSettings()
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line (never message text)
    templates_dir: Path | None = None  # None: the templates/ folder shipped with the service

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        """One of the logging module's level names, in any case; stored upper-case as logging wants it."""
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
        return value.upper()

    @model_validator(mode="after")
    def _database_url_from_file(self) -> Settings:
        """Invariant: after validation ``database_url`` holds the URL, read from ``database_url_file``
        when given that way (never both)."""
        secret_from(self, "database_url", required=False)
        return self

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = os.environ.get("INTAKE_CONFIG")
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'intake.db'}"


# INTAKE_ variables that are not settings: the config file's name, `intake user add`'s password, and the
# test suite's and benchmarks' own (INTAKE_TEST_POSTGRES, INTAKE_BENCH_POSTGRES ...).
NOT_SETTINGS = ("INTAKE_CONFIG", "INTAKE_PASSWORD")
NOT_SETTINGS_PREFIXES = ("INTAKE_TEST_", "INTAKE_BENCH_")


def load_settings(config_file: Path | None = None, **overrides) -> Settings:
    """Build and validate the settings, or raise ConfigurationError saying what is wrong.

    Invariant: every mistake in the settings (a missing or unreadable TOML file, whether named by
    ``--config`` or ``INTAKE_CONFIG``; broken TOML; an unknown key in any table, array of tables or
    ``INTAKE_`` environment variable; a bad value) is a ConfigurationError naming the file or the
    setting, never a traceback.
    """
    _check_environment(os.environ)
    if config_file is not None:
        _check_config_file(config_file)
        os.environ["INTAKE_CONFIG"] = str(config_file)
    elif os.environ.get("INTAKE_CONFIG"):
        _check_config_file(Path(os.environ["INTAKE_CONFIG"]), " (named by INTAKE_CONFIG)")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc)) from exc
    except tomllib.TOMLDecodeError as exc:  # tomllib puts "(at line N, column M)" in the message
        raise ConfigurationError(f"config file {os.environ.get('INTAKE_CONFIG')} is not valid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:  # only the TOML file is read while settings are built
        raise ConfigurationError(f"cannot read config file {os.environ.get('INTAKE_CONFIG')}: {exc}") from exc


def _check_config_file(path: Path, named_by: str = "") -> None:
    if not Path(path).is_file():
        raise ConfigurationError(f"config file not found: {path}{named_by}")


def _check_environment(environ) -> None:
    """Every ``INTAKE_`` variable names a setting. pydantic-settings skips a variable that matches no
    top-level setting, so ``INTAKE_POLL_SECOND=5`` or ``INTAKE_SMTP_HOST`` (one underscore) would do
    nothing; an unknown key below a top-level name (``INTAKE_SMTP__HOSTNAME``) is refused by the
    table's own ``extra="forbid"``."""
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith("INTAKE_") or upper in NOT_SETTINGS or upper.startswith(NOT_SETTINGS_PREFIXES):
            continue
        top = upper.removeprefix("INTAKE_").split("__")[0]
        if top.lower() in Settings.model_fields:
            continue
        raise ConfigurationError(f"environment variable {name} is not a setting (no setting {top.lower()}; "
                                 "a table's settings take two underscores, e.g. INTAKE_SMTP__HOST)")


def _describe(exc: ValidationError) -> str:
    lines = ["invalid settings:"]
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"  {where}: {error['msg']}")
    return "\n".join(lines)
