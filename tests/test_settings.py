"""The settings object: defaults, then the environment (SPEC §9), then test_config."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from app import create_app
from engine.numbers import NotAnInteger
from tests.conftest import app_settings


def settings_of(app):
    return app.extensions["questkit"].settings


def test_defaults_then_environment_then_test_config(db_url, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://rewards.example.com/")
    monkeypatch.setenv("SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("SMTP_FROM", "Acme <rewards@example.com>")
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "old-1,old-2")
    app = create_app(app_settings(db_url, clock, tmp_path, SMTP_HOST="smtp.test"))
    s = settings_of(app)
    assert s.public_url == "https://rewards.example.com"  # the environment, without its trailing /
    assert s.smtp_host == "smtp.test"  # test_config wins over the environment
    assert s.smtp_port == "25"  # the default
    assert s.smtp_from == "Acme <rewards@example.com>"
    assert s.webhook_allow_private is True
    assert s.signing_secrets == ["old-1", "old-2", "test-secret-key"]  # newest last
    assert s.outbox == tmp_path / "instance" / "outbox"
    mailer = s.mailer()
    assert (mailer.smtp_host, mailer.sender, mailer.sender_domain) == (
        "smtp.test", "Acme <rewards@example.com>", "rewards.example.com")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.public_url = "http://elsewhere"


def test_a_secure_public_url_makes_the_session_cookie_secure(db_url, clock, tmp_path):
    app = create_app(app_settings(db_url, clock, tmp_path, PUBLIC_URL="https://rewards.example.com"))
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_dashboard_session_lifetimes_default_then_environment_then_test_config(db_url, clock, tmp_path,
                                                                              monkeypatch):
    s = settings_of(create_app(app_settings(db_url, clock, tmp_path)))
    assert (s.session_idle, s.session_absolute) == (timedelta(hours=8), timedelta(days=7))
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "45")
    monkeypatch.setenv("SESSION_ABSOLUTE_HOURS", "12")
    s = settings_of(create_app(app_settings(db_url, clock, tmp_path / "env")))
    assert (s.session_idle, s.session_absolute) == (timedelta(minutes=45), timedelta(hours=12))
    s = settings_of(create_app(app_settings(db_url, clock, tmp_path / "cfg", SESSION_IDLE_MINUTES="30")))
    assert (s.session_idle, s.session_absolute) == (timedelta(minutes=30), timedelta(hours=12))


@pytest.mark.parametrize("name", ["SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_HOURS"])
@pytest.mark.parametrize("bad", ["\u0663\u0660", "3_0", " 30 ", "+30", "thirty"])
def test_a_session_lifetime_that_is_not_ascii_digits_fails_at_start(db_url, clock, tmp_path, name, bad):
    with pytest.raises(NotAnInteger, match=name):
        create_app(app_settings(db_url, clock, tmp_path, **{name: bad}))
