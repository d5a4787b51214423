"""Jauniešu iniciatīvu projektu portāls: the application factory."""

from __future__ import annotations

import logging

import click
from flask import Flask

from portal.config import Config, config_from_env
from portal.extensions import babel, csrf, db, login_manager, mail, migrate


def create_app(config_class: type[Config] | None = None) -> Flask:
    """Build the portal: configuration, extensions, blueprints, CLI, error pages, headers."""
    config_class = config_class or config_from_env()
    # Serving needs every secret; a command run from the CLI (`flask quotas compute`) may run without.
    if click.get_current_context(silent=True) is None:
        config_class.validate()
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=False,
    )
    app.config.from_object(config_class)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    # Importing the models registers every table on the metadata (Alembic reads it).
    from portal import models  # noqa: F401

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(app.root_path + "/../migrations"), compare_type=True, render_as_batch=True
    )
    mail.init_app(app)
    csrf.init_app(app)

    from portal.core import i18n

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=lambda: "Europe/Riga")
    i18n.init_app(app)

    from portal.core import pagecache

    pagecache.init_app(app)  # after CSRFProtect: its template csrf_token() is wrapped

    from portal.accounts import sessions

    login_manager.init_app(app)
    sessions.init_app(app)

    from portal.core import errors, security

    security.init_app(app)
    errors.init_app(app)

    from portal.accounts.views import bp as accounts_bp
    from portal.admin.views import bp as admin_bp
    from portal.api import bp as api_bp
    from portal.applications.attachments import bp as attachments_bp
    from portal.applications.views import bp as applications_bp
    from portal.calls.views import bp as calls_bp
    from portal.contracts.views import bp as contracts_bp
    from portal.evaluation.views import bp as evaluation_bp
    from portal.organisations.views import bp as organisations_bp
    from portal.payments.views import bp as payments_bp
    from portal.plans.views import bp as plans_bp
    from portal.programmes.views import bp as programmes_bp
    from portal.public.views import bp as public_bp
    from portal.reports.views import bp as reports_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(accounts_bp, url_prefix="/account")
    app.register_blueprint(organisations_bp, url_prefix="/organisations")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(programmes_bp, url_prefix="/programmes")
    app.register_blueprint(calls_bp, url_prefix="/calls")
    app.register_blueprint(applications_bp, url_prefix="/applications")
    app.register_blueprint(attachments_bp, url_prefix="/applications")
    app.register_blueprint(evaluation_bp, url_prefix="/evaluation")
    app.register_blueprint(contracts_bp, url_prefix="/contracts")
    app.register_blueprint(payments_bp, url_prefix="/payments")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(plans_bp, url_prefix="/plans")
    app.register_blueprint(api_bp, url_prefix="/api/v1")

    from portal.core import mail as outbox

    @app.after_request
    def _send_committed_mail(response):
        outbox.send_committed()
        return response

    from portal import cli

    cli.init_app(app)
    from portal.calls.cli import calls_cli
    from portal.contracts.cli import contracts_cli
    from portal.evaluation.cli import evaluation_cli
    from portal.programmes.cli import programmes_cli, quotas_cli
    from portal.reports.cli import reports_cli, retention_cli

    app.cli.add_command(quotas_cli)
    app.cli.add_command(programmes_cli)
    app.cli.add_command(calls_cli)
    app.cli.add_command(evaluation_cli)
    app.cli.add_command(contracts_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(retention_cli)
    return app
