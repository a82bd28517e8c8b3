"""One small hierarchy of errors whose names say what went wrong."""


class IntakeError(Exception):
    """Base for every error this service raises on purpose."""


class ConfigurationError(IntakeError):
    """The settings are wrong: the message says which one and why."""


class SourceUnavailable(IntakeError):
    """A source (IMAP server, folder) cannot be reached right now; try again later."""


class UnreadableSubmission(IntakeError):
    """A submission's bytes cannot be turned into text (corrupt, encrypted, empty, unsupported)."""


class TemporaryDeliveryFailure(IntakeError):
    """An outbound message could not be sent now; the outbox retries it."""


class PermanentDeliveryFailure(IntakeError):
    """An outbound message can never be sent as it is; staff must act."""


class ModelUnavailable(IntakeError):
    """The classifier model is missing or fails its checksum."""


class CaseNotFound(IntakeError):
    """No case (or submission) has the reference (or id) a person gave."""


class ActionRefused(IntakeError):
    """A staff verb that does not apply to the case as it stands; the message says why."""


class RestoreRefused(IntakeError):
    """An export cannot be restored here (not an export, another migration, a database not empty)."""
