"""Settings from the environment (app/infra/config.py): a value Passline cannot run with is
refused at start, in one line naming the variable and what it takes, never taken quietly."""
import pytest

from app.infra import config


def settings(monkeypatch, **env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return config.from_environment("/tmp")


@pytest.mark.parametrize("name, value, says", [
    ("OVERDUE_CHECK_SECONDS", "-3", "OVERDUE_CHECK_SECONDS must be a number of seconds above 0, got '-3'"),
    ("OVERDUE_CHECK_SECONDS", "0", "above 0"),  # once: a scheduler that spun without ticking
    ("OVERDUE_CHECK_SECONDS", "abc", "OVERDUE_CHECK_SECONDS must be a number"),
    ("OVERDUE_CONFIRMATION_MINUTES", "nan", "OVERDUE_CONFIRMATION_MINUTES must be a number of minutes"),
    ("OVERDUE_DELIVERY_MINUTES", "inf", "OVERDUE_DELIVERY_MINUTES"),
    ("OVERDUE_DELIVERY_MINUTES", "abc", "got 'abc'"),
    ("DEDUPE_KEEP_DAYS", "-1", "DEDUPE_KEEP_DAYS must be a number of days above 0"),  # once deleted every key
    ("RECEIPTS_KEEP_DAYS", "-1", "at least 0"),
    ("BOARD_CATCH_UP_SECONDS", "-5", "at least 0"),
    ("OUTBOX_SENDERS", "2.5", "OUTBOX_SENDERS must be a whole number at least 1"),
    ("OUTBOX_MAX_ATTEMPTS", "0", "OUTBOX_MAX_ATTEMPTS must be a whole number at least 1"),
    ("OUTBOX_POLL_SECONDS", "0", "above 0"),
    ("PASSLINE_ENV", "prod", "PASSLINE_ENV must be one of development, production, got 'prod'"),
    ("PASSLINE_SCHEDULER", "false", "PASSLINE_SCHEDULER must be one of auto, off, got 'false'"),
    ("PASSLINE_OUTBOX_WORKER", "OFF", "PASSLINE_OUTBOX_WORKER must be one of auto, off"),
])
def test_a_setting_passline_cannot_run_with_is_refused_naming_it(monkeypatch, name, value, says):
    with pytest.raises(config.SettingError) as refused:
        settings(monkeypatch, **{name: value})
    assert says in str(refused.value)


def test_usable_values_are_taken(monkeypatch):
    got = settings(monkeypatch, OVERDUE_CHECK_SECONDS="0.5", OVERDUE_DELIVERY_MINUTES="1.5", RECEIPTS_KEEP_DAYS="0",
                   BOARD_CATCH_UP_SECONDS="0", OUTBOX_SENDERS="2", PASSLINE_SCHEDULER="off")
    assert (got["OVERDUE_CHECK_SECONDS"], got["OVERDUE_DELIVERY_MINUTES"], got["RECEIPTS_KEEP_DAYS"]) == (0.5, 1.5, 0)
    assert (got["BOARD_CATCH_UP_SECONDS"], got["OUTBOX_SENDERS"], got["PASSLINE_SCHEDULER"]) == (0, 2, "off")


def test_unset_or_empty_means_the_default(monkeypatch):
    got = settings(monkeypatch, OVERDUE_CHECK_SECONDS="", OUTBOX_SENDERS="")
    assert (got["OVERDUE_CHECK_SECONDS"], got["OUTBOX_SENDERS"], got["PASSLINE_ENV"]) == (15, 4, "development")
