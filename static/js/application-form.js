/* The application form: autosave, live totals and activity rows — progressive enhancement only.
 *
 * Without this file every step still works: buttons save the draft, "Add a row" adds a row.
 *
 *  1. Autosave (QUALITY H1): after typing stops for 3 s, and at least every 10 s while typing goes on,
 *     the step's fields are sent to POST <data-autosave-url> as JSON {lock_version, step, values} with
 *     the CSRF token in X-CSRFToken. Replies: 200 {lock_version, message}; 422 {errors} (the rest was
 *     saved); 409 {conflict, fields, lock_version} (another window saved first: nothing is overwritten
 *     until the person chooses); 401 (logged out) or 400 (the CSRF token changed after logging in
 *     elsewhere): the input stays in memory only (never localStorage: QUALITY F7), a message offers a
 *     login link in a new tab, and the script polls GET <data-autosave-url> for a fresh token, then saves.
 *  2. Live figures: the PMP-risk share (step 4) and the budget total (step 7), as the server computes them.
 *  3. Activity rows (step 5) added and removed in place.
 */
(function () {
  "use strict";

  /* ---------- shared helpers ---------- */

  function lang() {
    return document.documentElement.getAttribute("lang") || "lv";
  }

  function setText(element, text) {
    if (element) {
      element.textContent = text;
    }
  }

  function digitsOnly(value) {
    var text = String(value || "").replace(/[\s\u00a0\u202f\u2009]+/g, "");
    return /^[0-9]{1,9}$/.test(text) ? parseInt(text, 10) : null;
  }

  // The server's parse_amount, in cents: "1 500,50", "1500.50", "1.500,50", "1,500.50"; null if unreadable.
  function parseCents(value) {
    var text = String(value || "").replace(/[\s\u00a0\u202f\u2009]+/g, "").replace(/(€|EUR|eur|Eur)$/, "");
    if (text === "") {
      return 0;
    }
    var normal;
    if (/^[0-9]+([.,][0-9]{1,2})?$/.test(text)) {
      normal = text.replace(",", ".");
    } else if (/^[0-9]{1,3}(\.[0-9]{3})+,[0-9]{1,2}$/.test(text)) {
      normal = text.replace(/\./g, "").replace(",", ".");
    } else if (/^[0-9]{1,3}(,[0-9]{3})+\.[0-9]{1,2}$/.test(text)) {
      normal = text.replace(/,/g, "");
    } else {
      return null;
    }
    var parts = normal.split(".");
    var cents = parseInt(parts[0], 10) * 100;
    if (parts.length > 1) {
      cents += parseInt((parts[1] + "0").slice(0, 2), 10);
    }
    return cents;
  }

  // Group thousands always ("4 600,00 €"), as the server's Babel formatting does; Latvian CLDR data
  // would leave four-digit numbers ungrouped in Intl's default.
  function numberFormat(options) {
    try {
      return new Intl.NumberFormat(lang(), Object.assign({ useGrouping: "always" }, options));
    } catch (e) {
      return new Intl.NumberFormat(lang(), options);
    }
  }

  function formatMoney(cents) {
    try {
      return numberFormat({ style: "currency", currency: "EUR" }).format(cents / 100);
    } catch (e) {
      return (cents / 100).toFixed(2) + " €";
    }
  }

  function formatPercent(hundredths) {
    try {
      return numberFormat({ minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(hundredths / 100) + " %";
    } catch (e) {
      return (hundredths / 100).toFixed(2) + " %";
    }
  }

  /* ---------- 1. Autosave (static/js/autosave.js) ---------- */

  function initAutosave(form) {
    var step = form.getAttribute("data-step");
    var autosave = window.PortalAutosave.create({
      form: form,
      status: document.getElementById("autosave-status"),
      loginNotice: document.getElementById("autosave-login"),
      focusLoginNotice: true,
      conflictNotice: document.getElementById("autosave-conflict"),
      conflictList: document.getElementById("autosave-conflict-fields"),
      keepMine: document.getElementById("autosave-keep-mine"),
      sessionLoss: "refresh",
      guardSubmit: true,
      flushOnLeave: true,
      payload: function () {
        return { step: step, values: window.PortalAutosave.formValues(form, ["csrf_token", "lock_version"]) };
      }
    });
    if (!autosave) {
      return null;
    }

    // Links away from the page (the step list, the breadcrumbs): save what is typed first.
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[href]") : null;
      if (!link || !autosave.dirty() || link.target === "_blank" || link.getAttribute("href").charAt(0) === "#") {
        return;
      }
      if (autosave.state() === "auth") {
        event.preventDefault();
        if (autosave.loginNotice) {
          autosave.loginNotice.hidden = false;
        }
        return;
      }
      if (autosave.state() !== "ok") {
        return;
      }
      event.preventDefault();
      var href = link.href;
      autosave.save().then(function () {
        if (autosave.state() === "ok" && !autosave.dirty()) {
          window.location.href = href;
        }
      });
    });

    return autosave;
  }

  /* ---------- 2. Live figures ---------- */

  function initRiskShare(form) {
    var panel = document.getElementById("risk-share-panel");
    var output = document.getElementById("risk-share");
    var verdict = document.getElementById("risk-share-verdict");
    var total = form.elements.participants_total;
    var risk = form.elements.participants_risk;
    if (!panel || !output || !total || !risk) {
      return;
    }
    var minimum = Math.round(parseFloat(panel.getAttribute("data-min-share") || "0") * 100); // hundredths of %

    function update() {
      var t = digitsOnly(total.value);
      var r = digitsOnly(risk.value);
      if (t === null || r === null || t <= 0) {
        setText(output, "–");
        setText(verdict, "");
        return;
      }
      // Two decimals, never rounded up: the same figure the server shows.
      setText(output, formatPercent(Math.floor((r * 10000) / t)));
      var ok = r * 10000 >= minimum * t;
      setText(verdict, panel.getAttribute(ok ? "data-msg-ok" : "data-msg-below"));
    }

    total.addEventListener("input", update);
    risk.addEventListener("input", update);
  }

  function initBudget(form) {
    var fieldset = form.querySelector("[data-budget]");
    var output = document.getElementById("budget-total");
    var difference = document.getElementById("budget-difference");
    if (!fieldset || !output) {
      return;
    }
    var amount = parseCents(fieldset.getAttribute("data-amount"));
    var fixed = fieldset.getAttribute("data-mode") === "fixed";
    var inputs = fieldset.querySelectorAll("input");

    function update() {
      var cents = 0;
      for (var i = 0; i < inputs.length; i++) {
        var value = parseCents(inputs[i].value);
        if (value !== null) {
          cents += value;
        }
      }
      setText(output, formatMoney(cents));
      var message;
      if (cents < amount && fixed) {
        message = fieldset.getAttribute("data-msg-left").replace("__AMOUNT__", formatMoney(amount - cents));
      } else if (cents > amount) {
        message = fieldset.getAttribute("data-msg-over").replace("__AMOUNT__", formatMoney(cents - amount));
      } else {
        message = fieldset.getAttribute(fixed ? "data-msg-exact" : "data-msg-within");
      }
      setText(difference, message);
    }

    fieldset.addEventListener("input", update);
  }

  /* ---------- 3. Activity rows ---------- */

  function initRows(form) {
    var plan = form.querySelector(".activity-plan");
    if (!plan) {
      return;
    }
    var addButton = plan.querySelector("[data-add-row]");
    var maxRows = parseInt(plan.getAttribute("data-max-rows") || "30", 10);

    function rows() {
      return plan.querySelectorAll("[data-activity-row]");
    }

    function indexOf(row) {
      var named = row.querySelector("[name^='activities-']");
      var match = named ? /^activities-([0-9]+)-/.exec(named.name) : null;
      return match ? parseInt(match[1], 10) : 0;
    }

    function relabel() {
      var all = rows();
      for (var i = 0; i < all.length; i++) {
        var n = String(i + 1);
        setText(all[i].querySelector("legend"), plan.getAttribute("data-row-legend").replace("__N__", n));
        var remove = all[i].querySelector("[data-remove-row]");
        if (remove) {
          setText(remove, plan.getAttribute("data-remove-label").replace("__N__", n));
          remove.value = String(i);
        }
      }
      if (addButton) {
        addButton.hidden = all.length >= maxRows;
      }
    }

    function renumber(row, from, to) {
      var pattern = new RegExp("activities-" + from + "-", "g");
      var replacement = "activities-" + to + "-";
      var elements = row.querySelectorAll("[name], [id], [for], [aria-describedby]");
      for (var i = 0; i < elements.length; i++) {
        var el = elements[i];
        ["name", "id", "for", "aria-describedby"].forEach(function (attribute) {
          var value = el.getAttribute(attribute);
          if (value) {
            el.setAttribute(attribute, value.replace(pattern, replacement));
          }
        });
      }
    }

    function clear(row) {
      var errors = row.querySelectorAll(".field-error");
      for (var i = 0; i < errors.length; i++) {
        errors[i].parentNode.removeChild(errors[i]);
      }
      var fields = row.querySelectorAll("input, textarea, select");
      for (var j = 0; j < fields.length; j++) {
        fields[j].value = "";
        fields[j].removeAttribute("aria-invalid");
        var described = (fields[j].getAttribute("aria-describedby") || "")
          .split(" ")
          .filter(function (id) {
            return id && !/-error$/.test(id);
          })
          .join(" ");
        if (described) {
          fields[j].setAttribute("aria-describedby", described);
        } else {
          fields[j].removeAttribute("aria-describedby");
        }
      }
      var wrappers = row.querySelectorAll(".has-error");
      for (var k = 0; k < wrappers.length; k++) {
        wrappers[k].classList.remove("has-error");
      }
    }

    plan.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-row]");
      var remove = event.target.closest("[data-remove-row]");
      if (add) {
        event.preventDefault();
        var all = rows();
        if (all.length >= maxRows) {
          return;
        }
        var last = all[all.length - 1];
        var next = 0;
        for (var i = 0; i < all.length; i++) {
          next = Math.max(next, indexOf(all[i]) + 1);
        }
        var clone = last.cloneNode(true);
        renumber(clone, indexOf(last), next);
        clear(clone);
        last.parentNode.insertBefore(clone, last.nextSibling);
        relabel();
        var first = clone.querySelector("textarea, input");
        if (first) {
          first.focus();
        }
        form.dispatchEvent(new CustomEvent("jip:rows-changed"));
      } else if (remove) {
        event.preventDefault();
        var row = remove.closest("[data-activity-row]");
        var current = rows();
        var position = Array.prototype.indexOf.call(current, row);
        if (current.length <= 1) {
          clear(row); // keep one (empty) row to type into
        } else {
          row.parentNode.removeChild(row);
        }
        relabel();
        var remaining = rows();
        var focusRow = remaining[Math.min(position, remaining.length - 1)];
        var target = focusRow ? focusRow.querySelector("textarea, input") : addButton;
        if (target) {
          target.focus();
        }
        form.dispatchEvent(new CustomEvent("jip:rows-changed"));
      }
    });
  }

  function init() {
    var form = document.getElementById("application-form");
    if (!form) {
      return;
    }
    initAutosave(form);
    initRiskShare(form);
    initBudget(form);
    initRows(form);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
