"""Account pages: register, confirm, log in (password, then TOTP), log out, reset, settings, dashboard."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user

from portal.accounts import permissions, reauth, services, sessions, subject_access, totp
from portal.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmOnlyForm,
    DisableTotpForm,
    EmailOnlyForm,
    LoginForm,
    ProfileForm,
    ReauthForm,
    RegisterForm,
    ResetPasswordForm,
    TotpConfirmForm,
    TotpForm,
)
from portal.accounts.models import User
from portal.accounts.reauth import require_recent_auth
from portal.core.i18n import current_language
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.public.views import safe_next

bp = Blueprint("accounts", __name__)

# Between the password and the second factor the browser holds only this, never a login (QUALITY A5).
PENDING_KEY = "pending_login"
PENDING_LIFETIME = timedelta(minutes=5)
# Pages a `next` link must not lead back to (they would loop or undo the login).
_NO_RETURN = ("/account/login", "/account/logout", "/account/register", "/account/reset", "/account/confirm")


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _clean_next(value: str | None) -> str:
    """Return a same-site path to come back to after logging in, or '' (no open redirect)."""
    if not value or len(value) > 1000 or "\\" in value or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return ""
    target = safe_next(value, fallback="")
    if target.startswith(_NO_RETURN):
        return ""
    return target


def _after_login(next_url: str | None) -> str:
    return _clean_next(next_url) or url_for("accounts.dashboard")


def _throttled():
    response = current_app.make_response(
        (render_template("accounts/login_throttled.html", minutes=_window_minutes()), 429)
    )
    response.headers["Retry-After"] = str(int(current_app.config["LOGIN_FAILURE_WINDOW"].total_seconds()))
    return response


def _window_minutes() -> int:
    return int(current_app.config["LOGIN_FAILURE_WINDOW"].total_seconds() // 60)


# --- the login state between the password and the second factor ----------------------------------


def _set_pending(user: User, next_url: str) -> None:
    session.pop(sessions.SESSION_KEY, None)
    session[PENDING_KEY] = {"uid": user.id, "at": utcnow().timestamp(), "next": next_url}


def _pending_login() -> tuple[User, str] | None:
    """Return the user who passed the password step in this browser in the last 5 minutes."""
    data = session.get(PENDING_KEY)
    try:
        user_id, started, next_url = int(data["uid"]), float(data["at"]), str(data.get("next") or "")
    except (TypeError, KeyError, ValueError):
        session.pop(PENDING_KEY, None)
        return None
    age = utcnow().timestamp() - started
    user = db.session.get(User, user_id) if 0 <= age <= PENDING_LIFETIME.total_seconds() else None
    if user is None or user.is_disabled or not user.is_confirmed:
        session.pop(PENDING_KEY, None)
        return None
    return user, next_url


def _restart_login():
    session.pop(PENDING_KEY, None)
    flash(_("Your login has timed out. Please enter your e-mail and password again."), "info")
    return redirect(url_for("accounts.login"))


def _complete_login(user: User, next_url: str):
    """Start the real session (a new cookie value, QUALITY B3) and go where the user was heading."""
    sessions.start_session(user)
    services.record_login(user)
    db.session.commit()
    flash(_("You are logged in."), "success")
    return redirect(_after_login(next_url))


# --- login and logout -------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_after_login(request.args.get("next")))
    form = LoginForm()
    resend_form = None
    notice = None
    if request.method == "GET":
        form.next.data = _clean_next(request.args.get("next"))
    if form.validate_on_submit():
        ip = _client_ip()
        if services.is_throttled(form.email.data, ip):
            services.record_login_attempt(form.email.data, ip, success=False, stage=services.STAGE_THROTTLED)
            db.session.commit()
            return _throttled()
        check = services.check_password_login(form.email.data, form.password.data, ip)
        next_url = _clean_next(form.next.data)
        if check.problem is None:
            user = check.user
            if user.has_totp:
                _set_pending(user, next_url)
                db.session.commit()
                return redirect(url_for("accounts.login_totp"))
            if permissions.must_enrol_totp(user):
                _set_pending(user, next_url)
                db.session.commit()
                return redirect(url_for("accounts.enrol_totp"))
            return _complete_login(user, next_url)
        db.session.commit()  # the attempt row (and an upgraded hash)
        if check.problem == "unconfirmed":
            notice = "unconfirmed"
            resend_form = EmailOnlyForm(formdata=None, email=form.email.data, next=next_url)
        elif check.problem == "disabled":
            notice = "disabled"
        else:
            form.password.errors.append(_("E-mail or password is incorrect."))
    return render_template("accounts/login.html", form=form, resend_form=resend_form, notice=notice)


@bp.route("/login/totp", methods=["GET", "POST"])
def login_totp():
    pending = _pending_login()
    if pending is None:
        return _restart_login()
    user, next_url = pending
    if not user.has_totp:
        return redirect(url_for("accounts.enrol_totp"))
    form = TotpForm()
    if form.validate_on_submit():
        ip = _client_ip()
        if services.is_throttled(user.email, ip):
            services.record_login_attempt(user.email, ip, success=False, stage=services.STAGE_THROTTLED)
            db.session.commit()
            return _throttled()
        if services.check_totp_login(user, form.code.data, ip):
            return _complete_login(user, next_url)
        db.session.commit()
        form.code.data = ""
        form.code.errors.append(
            _("The code is not valid. Enter the current code from your authenticator app.")
        )
    return render_template("accounts/login_totp.html", form=form)


@bp.route("/login/totp/setup", methods=["GET", "POST"])
def enrol_totp():
    """Staff set up TOTP right after the password step, before they get any session (QUALITY A5)."""
    pending = _pending_login()
    if pending is None:
        return _restart_login()
    user, next_url = pending
    if user.has_totp:
        return redirect(url_for("accounts.login_totp"))
    if not permissions.must_enrol_totp(user):
        return _restart_login()
    secret = services.pending_totp_secret(user)
    db.session.commit()
    form = TotpForm()
    if form.validate_on_submit():
        ip = _client_ip()
        if services.is_throttled(user.email, ip):
            services.record_login_attempt(user.email, ip, success=False, stage=services.STAGE_THROTTLED)
            db.session.commit()
            return _throttled()
        if services.enrol_totp_at_login(user, form.code.data, ip):
            flash(_("Two-step login is now on for your account."), "success")
            return _complete_login(user, next_url)
        db.session.commit()
        form.code.data = ""
        form.code.errors.append(
            _("The code is not valid. Scan the QR code again and enter the current code.")
        )
    return render_template("accounts/enrol_totp.html", form=form, **_totp_setup_context(user, secret))


def _totp_setup_context(user: User, secret: str) -> dict:
    uri = totp.provisioning_uri(secret, user.email)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return {"qr_data_uri": totp.qr_svg_data_uri(uri), "secret_grouped": grouped}


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        services.record_logout(current_user._get_current_object())
        sessions.end_session()
        db.session.commit()
        flash(_("You have logged out."), "info")
    else:
        session.pop(PENDING_KEY, None)
    response = redirect(url_for("accounts.login"))
    # QUALITY F7: nothing the portal's scripts might have kept in this browser outlives the session.
    response.headers["Clear-Site-Data"] = '"storage"'
    return response


# --- registration and confirmation --------------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(_after_login(request.args.get("next")))
    form = RegisterForm()
    if request.method == "GET":
        form.next.data = _clean_next(request.args.get("next"))
        form.language.data = current_language()
    if form.validate_on_submit():
        next_url = _clean_next(form.next.data)
        services.register_user(
            full_name=form.full_name.data,
            email=form.email.data,
            password=form.password.data,
            locale=form.language.data,
            next_url=next_url or None,
        )
        db.session.commit()
        return redirect(url_for("accounts.registered", next=next_url or None))
    return render_template("accounts/register.html", form=form)


@bp.get("/register/done")
def registered():
    return render_template("accounts/registered.html", next_url=_clean_next(request.args.get("next")))


@bp.get("/confirm/<token>")
def confirm_email(token: str):
    next_url = _clean_next(request.args.get("next")) or None
    user = services.confirm_email(token)
    if user is not None:
        db.session.commit()
        flash(_("Your e-mail address is confirmed. You can log in now."), "success")
        return redirect(url_for("accounts.login", next=next_url))
    if services.confirmed_by_used_token(token):
        flash(_("Your e-mail address is already confirmed. You can log in."), "info")
        return redirect(url_for("accounts.login", next=next_url))
    form = EmailOnlyForm(formdata=None, next=next_url)
    return render_template("accounts/link_invalid.html", purpose="confirm", form=form), 404


@bp.route("/confirm/resend", methods=["GET", "POST"])
def resend_confirmation():
    form = EmailOnlyForm()
    if request.method == "GET":
        form.next.data = _clean_next(request.args.get("next"))
    if form.validate_on_submit():
        next_url = _clean_next(form.next.data)
        services.resend_confirmation(form.email.data, next_url=next_url or None)
        db.session.commit()
        flash(
            _("If an account with this address is waiting for confirmation, we have sent it a new link."),
            "info",
        )
        return redirect(url_for("accounts.login", next=next_url or None))
    return render_template("accounts/resend_confirmation.html", form=form)


# --- password reset -----------------------------------------------------------------------------


@bp.route("/reset", methods=["GET", "POST"])
def request_reset():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        return redirect(url_for("accounts.reset_sent"))
    return render_template("accounts/request_reset.html", form=form)


@bp.get("/reset/sent")
def reset_sent():
    return render_template("accounts/reset_sent.html", minutes=_reset_minutes())


def _reset_minutes() -> int:
    return int(current_app.config["TOKEN_LIFETIME_RESET"].total_seconds() // 60)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if services.find_token(token, services.RESET) is None:
        return render_template("accounts/link_invalid.html", purpose="reset", form=None), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user = services.reset_password(token, form.password.data)
        if user is None:
            return render_template("accounts/link_invalid.html", purpose="reset", form=None), 404
        db.session.commit()
        # Every session of the user has ended on the server; forget this browser's too.
        logout_user()
        session.clear()
        flash(_("Your password has been changed. Log in with the new password."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


# --- dashboard, settings, keepalive -------------------------------------------------------------


@bp.get("/")
@login_required
def dashboard():
    user = current_user._get_current_object()
    memberships = sorted(user.memberships, key=lambda m: (str(m.role.label), m.id))
    return render_template(
        "accounts/dashboard.html",
        memberships=memberships,
        can_view_audit_trail=permissions.can_view_audit_trail(user),
    )


def _settings_page(user: User, status: int = 200, **forms):
    """Render the settings page; the form that was posted keeps its input and errors."""
    forms.setdefault(
        "profile_form",
        ProfileForm(formdata=None, full_name=user.full_name, phone=user.phone, language=user.locale),
    )
    forms.setdefault("password_form", ChangePasswordForm(formdata=None, user=user))
    forms.setdefault("disable_totp_form", DisableTotpForm(formdata=None, user=user))
    forms.setdefault("sessions_form", ConfirmOnlyForm(formdata=None))
    current = sessions.current_session_row()
    return (
        render_template(
            "accounts/settings.html",
            user_sessions=services.active_sessions(user),
            current_session_id=current.id if current else None,
            can_disable_totp=permissions.can_disable_totp(user),
            **forms,
        ),
        status,
    )


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    user = current_user._get_current_object()
    form = ProfileForm()
    if request.method == "GET":
        return _settings_page(user)
    if form.validate_on_submit():
        services.update_profile(
            user, full_name=form.full_name.data, phone=form.phone.data, locale=form.language.data, actor=user
        )
        db.session.commit()
        flash(_("Your details have been saved."), "success")
        return redirect(url_for("accounts.settings"))
    return _settings_page(user, profile_form=form)


@bp.post("/settings/password")
@login_required
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(user=user)
    if form.validate_on_submit():
        ended = services.change_password(
            user, form.new_password.data, actor=user, end_other_sessions=form.logout_others.data
        )
        db.session.commit()
        flash(_("Your password has been changed."), "success")
        if ended:
            flash(
                ngettext(
                    "%(num)d other session was logged out.", "%(num)d other sessions were logged out.", ended
                ),
                "info",
            )
        return redirect(url_for("accounts.settings"))
    db.session.commit()  # a wrong current password is a failed login attempt (QUALITY A3)
    return _settings_page(user, password_form=form)


@bp.route("/settings/totp", methods=["GET", "POST"])
@login_required
@require_recent_auth(get=True)
def enable_totp():
    user = current_user._get_current_object()
    if not permissions.can_enable_totp(user):
        flash(_("Two-step login is already on."), "info")
        return redirect(url_for("accounts.settings"))
    secret = services.pending_totp_secret(user)
    db.session.commit()
    form = TotpConfirmForm(user=user)
    if form.validate_on_submit():
        if services.enable_totp(user, form.code.data, actor=user):
            db.session.commit()
            flash(_("Two-step login is now on for your account."), "success")
            return redirect(url_for("accounts.settings"))
        form.code.errors.append(
            _("The code is not valid. Scan the QR code again and enter the current code.")
        )
    if form.is_submitted():
        db.session.commit()  # a wrong current password is a failed login attempt (QUALITY A3)
    form.code.data = ""
    return render_template("accounts/enable_totp.html", form=form, **_totp_setup_context(user, secret))


@bp.post("/settings/totp/disable")
@login_required
@require_recent_auth(back="accounts.settings")
def disable_totp():
    user = current_user._get_current_object()
    if not permissions.can_disable_totp(user):
        flash(_("Two-step login is required for your role and cannot be turned off."), "error")
        return redirect(url_for("accounts.settings"))
    form = DisableTotpForm(user=user)
    if form.validate_on_submit():
        if services.disable_totp(user, form.disable_code.data, actor=user):
            db.session.commit()
            flash(_("Two-step login is now off."), "info")
            return redirect(url_for("accounts.settings"))
        reauth.record_failed_code(user, _client_ip())
        form.disable_code.errors.append(
            _("The code is not valid. Enter the current code from your authenticator app.")
        )
    db.session.commit()  # failed passwords and codes count toward the login throttle (QUALITY A3)
    form.disable_code.data = ""
    return _settings_page(user, disable_totp_form=form)


# --- re-authentication and the e-mail address (QUALITY B6) ---------------------------------------


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
def reauth_confirm():
    """Confirm the password (and code) before a sensitive change; then go back to `next`."""
    user = current_user._get_current_object()
    next_url = _clean_next(request.args.get("next")) or url_for("accounts.settings")
    form = ReauthForm()
    if form.validate_on_submit():
        result = reauth.confirm_identity(
            user, password=form.password.data, code=form.code.data, ip=_client_ip()
        )
        db.session.commit()
        if result == reauth.THROTTLED:
            return _throttled()
        if result == reauth.OK:
            flash(_("Thank you. You can make the change now."), "success")
            return redirect(next_url)
        if result == reauth.BAD_PASSWORD:
            form.password.errors.append(_("The password is not correct."))
        else:
            form.code.errors.append(
                _("The code is not valid. Enter the current code from your authenticator app.")
            )
    form.code.data = ""
    return render_template(
        "accounts/reauth.html",
        form=form,
        next_url=next_url,
        minutes=int(reauth.REAUTH_WINDOW.total_seconds() // 60),
    )


@bp.route("/settings/email", methods=["GET", "POST"])
@login_required
@require_recent_auth(get=True)
def change_email():
    user = current_user._get_current_object()
    form = ChangeEmailForm(user=user)
    if not form.is_submitted():
        reauth.restore_form(form)
    if form.validate_on_submit():
        services.request_email_change(user, form.new_email.data, actor=user)
        db.session.commit()
        flash(
            _(
                "We have sent a link to %(email)s. Your address changes when you open it; until then "
                "it stays %(current)s.",
                email=form.new_email.data,
                current=user.email,
            ),
            "info",
        )
        return redirect(url_for("accounts.settings"))
    return render_template(
        "accounts/change_email.html",
        form=form,
        minutes=int(services.EMAIL_CHANGE_LIFETIME.total_seconds() // 60),
    )


@bp.get("/email/<token>")
def confirm_email_change(token: str):
    user = services.confirm_email_change(token)
    db.session.commit()  # a used link is spent even when the change could not be made
    if user is None:
        return render_template("accounts/link_invalid.html", purpose="email_change", form=None), 404
    flash(_("Your e-mail address is now %(email)s.", email=user.email), "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for("accounts.settings"))
    return redirect(url_for("accounts.login"))


# --- subject access (QUALITY F8) ------------------------------------------------------------------


@bp.get("/my-data.json")
@login_required
def my_data():
    """All personal data stored about the logged-in user, as JSON (GDPR Art. 15 and 20)."""
    user = current_user._get_current_object()
    data = subject_access.export_personal_data(user, actor=user)
    db.session.commit()
    response = jsonify(data)
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/settings/sessions/end-others")
@login_required
def end_other_sessions():
    user = current_user._get_current_object()
    form = ConfirmOnlyForm()
    if form.validate_on_submit():
        ended = services.end_other_sessions(user, actor=user)
        db.session.commit()
        flash(
            ngettext(
                "%(num)d other session was logged out.", "%(num)d other sessions were logged out.", ended
            ),
            "info",
        )
    return redirect(url_for("accounts.settings"))


@bp.post("/keepalive")
@login_required
def keepalive():
    """Keep the session alive for the timeout warning (CSRF token in X-CSRFToken or the form)."""
    row = sessions.current_session_row()
    if row is None:  # pragma: no cover - login_required has loaded it
        return jsonify(error="unauthenticated"), 401
    row.last_seen_at = utcnow()
    expires = sessions.expires_at(row, current_user)
    db.session.commit()
    wants_json = request.accept_mimetypes.best == "application/json" or "X-CSRFToken" in request.headers
    if wants_json:
        return jsonify(expires_at=expires.isoformat())
    # Without JavaScript the warning's button is a plain form: go back to the page.
    back = _clean_next(request.form.get("next")) or _referrer_path() or url_for("accounts.dashboard")
    return redirect(back, code=303)


def _referrer_path() -> str:
    referrer = request.referrer
    if not referrer:
        return ""
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return ""
    return _clean_next(parts.path + (f"?{parts.query}" if parts.query else ""))
