/* Jauniešu iniciatīvu projektu portāls — progressive enhancement only.
 *
 * Every page works without this file. It is loaded with `defer` from base.html; the Content Security
 * Policy forbids inline scripts, so all behaviour is attached here from data attributes and ids.
 *
 *  1. Error summary: focused on page load, so keyboard and screen-reader users hear what went wrong;
 *     its links move focus to the field (WCAG 3.3.1).
 *  2. Session timeout warning (WCAG 2.2.1): <body data-session-expires="ISO" data-server-now="ISO">;
 *     #session-warning appears 2 minutes before the end with a button that extends the session through
 *     the keep-alive form (fetch, X-CSRFToken header, JSON reply {"expires_at": ISO}); when the time is
 *     up the page reloads and the server shows the login page.
 *  3. Small helpers: confirmation prompts (data-confirm) and keyboard-scrollable wide tables.
 */
(function () {
  "use strict";

  var WARN_BEFORE_MS = 2 * 60 * 1000;
  var TICK_MS = 1000;

  /* ---------- 1. Error summary ---------- */

  function fieldLabelFor(target) {
    var fieldset = target.closest("fieldset");
    if (fieldset && (target.type === "radio" || target.type === "checkbox")) {
      var legend = fieldset.querySelector("legend");
      if (legend) {
        return legend;
      }
    }
    if (target.id) {
      var labels = document.getElementsByTagName("label");
      for (var i = 0; i < labels.length; i++) {
        if (labels[i].htmlFor === target.id) {
          return labels[i];
        }
      }
    }
    return target;
  }

  function initErrorSummary() {
    var summary = document.getElementById("error-summary") || document.querySelector(".error-summary");
    if (!summary) {
      return;
    }
    if (!summary.hasAttribute("tabindex")) {
      summary.setAttribute("tabindex", "-1");
    }
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
      if (!link) {
        return;
      }
      var target = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
      if (!target) {
        return;
      }
      event.preventDefault();
      // Show the label (or legend) above the field, not just the input, then focus the input.
      fieldLabelFor(target).scrollIntoView();
      target.focus({ preventScroll: true });
    });
  }

  /* ---------- 2. Session timeout warning ---------- */

  function parseInstant(value) {
    var ms = value ? Date.parse(value) : NaN;
    return isNaN(ms) ? null : ms;
  }

  function formatLeft(ms) {
    var seconds = Math.max(0, Math.ceil(ms / 1000));
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function initSessionWarning() {
    var body = document.body;
    var dialog = document.getElementById("session-warning");
    var expiresServer = parseInstant(body.getAttribute("data-session-expires"));
    if (!dialog || expiresServer === null) {
      return;
    }
    // The expiry is the server's instant; correct for a browser clock that is off.
    var serverNow = parseInstant(body.getAttribute("data-server-now"));
    var skew = serverNow === null ? 0 : Date.now() - serverNow;
    var expiresAt = expiresServer + skew;
    var form = document.getElementById("keepalive-form");
    var countdown = document.getElementById("session-warning-countdown");
    var button = form ? form.querySelector("button, [type='submit']") : null;
    var returnFocus = null;
    var reloading = false;
    var busy = false;

    function show() {
      if (!dialog.hidden) {
        return;
      }
      returnFocus = document.activeElement;
      dialog.hidden = false;
      if (button) {
        button.focus();
      }
    }

    function hide() {
      if (dialog.hidden) {
        return;
      }
      dialog.hidden = true;
      if (returnFocus && document.contains(returnFocus) && returnFocus.focus) {
        returnFocus.focus();
      }
      returnFocus = null;
    }

    function expire() {
      if (reloading) {
        return;
      }
      reloading = true;
      window.location.reload();
    }

    function tick() {
      var left = expiresAt - Date.now();
      if (left <= 0) {
        expire();
        return;
      }
      if (left <= WARN_BEFORE_MS) {
        if (countdown) {
          countdown.textContent = formatLeft(left);
        }
        show();
      } else {
        hide();
      }
    }

    function setExpiry(iso) {
      var ms = parseInstant(iso);
      if (ms !== null) {
        expiresAt = ms + skew;
        tick();
      }
    }

    function keepAlive() {
      if (!form || busy) {
        return;
      }
      busy = true;
      var tokenInput = form.querySelector("input[name='csrf_token']");
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "X-CSRFToken": tokenInput ? tokenInput.value : "",
          Accept: "application/json",
          "X-Requested-With": "fetch"
        },
        body: new FormData(form)
      })
        .then(function (response) {
          if (!response.ok || response.redirected) {
            throw new Error("keep-alive refused");
          }
          return response.json();
        })
        .then(function (data) {
          busy = false;
          if (!data || !data.expires_at) {
            throw new Error("keep-alive reply without expires_at");
          }
          setExpiry(data.expires_at);
          hide();
        })
        .catch(function () {
          // The session has ended on the server (or the network failed): let the server decide.
          busy = false;
          expire();
        });
    }

    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        keepAlive();
      });
    }
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") {
        event.preventDefault();
        keepAlive();
      }
    });
    // Other scripts (e.g. autosave) that extend the session on the server report the new end here.
    document.addEventListener("jip:session-extended", function (event) {
      if (event.detail && event.detail.expires_at) {
        setExpiry(event.detail.expires_at);
      }
    });
    window.JIP = window.JIP || {};
    window.JIP.sessionExtended = setExpiry;

    // Background tabs throttle timers, so each tick recomputes from the clock rather than counting.
    window.setInterval(tick, TICK_MS);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) {
        tick();
      }
    });
    tick();
  }

  /* ---------- 3. Small helpers ---------- */

  function initConfirmations() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var submitter = event.submitter;
      var message =
        (submitter && submitter.getAttribute("data-confirm")) || (form.getAttribute && form.getAttribute("data-confirm"));
      if (message && !window.confirm(message)) {
        event.preventDefault();
      }
    });
  }

  function initScrollableTables() {
    var wraps = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i++) {
      var wrap = wraps[i];
      if (wrap.scrollWidth <= wrap.clientWidth || wrap.hasAttribute("tabindex")) {
        continue;
      }
      // A region that scrolls must be reachable by keyboard (WCAG 2.1.1) and have a name.
      wrap.setAttribute("tabindex", "0");
      var caption = wrap.querySelector("caption");
      if (caption && !wrap.hasAttribute("aria-label") && !wrap.hasAttribute("aria-labelledby")) {
        if (!caption.id) {
          caption.id = "table-caption-" + i;
        }
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-labelledby", caption.id);
      }
    }
  }

  function init() {
    initErrorSummary();
    initSessionWarning();
    initConfirmations();
    initScrollableTables();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
