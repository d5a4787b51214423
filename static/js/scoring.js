/* The scoring screen: autosave and the running total — progressive enhancement only.
 *
 * Without this file the sheet still works: "Save" posts the form, "Submit the scores" submits it.
 *
 *  1. Autosave (QUALITY H1, H2): 1.5 s after a change, and every 10 s while changes are unsaved, the
 *     sheet is sent to POST <data-autosave-url> as JSON {lock_version, scores: {criterion id: {value,
 *     comment}}} with the CSRF token in X-CSRFToken. Replies: 200 {lock_version, message}: the status
 *     line (aria-live polite) says "Saved at 12:03"; 409 {conflict}: another window saved first —
 *     nothing is overwritten, a notice offers to reload; 409 {locked}: the sheet can no longer change;
 *     anything else: the choices stay on the page and saving is tried again later.
 *  2. The running weighted total: Σ weight × level, updated on every choice.
 *  3. Leaving the page with unsaved changes asks for confirmation.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 1500;
  var INTERVAL_MS = 10000;

  function lang() {
    return document.documentElement.getAttribute("lang") || "lv";
  }

  function formatNumber(value) {
    try {
      return new Intl.NumberFormat(lang(), { maximumFractionDigits: 3 }).format(value);
    } catch (e) {
      return String(value);
    }
  }

  function init(form) {
    var totalOutput = document.getElementById("scoring-total");
    var groups = form.querySelectorAll("fieldset[data-criterion]");

    function collect() {
      var scores = {};
      for (var i = 0; i < groups.length; i++) {
        var id = groups[i].getAttribute("data-criterion");
        var checked = groups[i].querySelector("input[type='radio']:checked");
        var comment = form.querySelector("textarea[name='comment_" + id + "']");
        scores[id] = {
          value: checked ? checked.value : null,
          comment: comment ? comment.value : null
        };
      }
      return scores;
    }

    // The sheet's own rules (static/js/autosave.js does the saving): 1.5 s after a change, every 10 s
    // while unsaved; a lost session stops autosaving (a button press posts the choices).
    var autosave = window.PortalAutosave.create({
      form: form,
      status: document.getElementById("scoring-status"),
      conflictNotice: document.getElementById("scoring-conflict"),
      debounceMs: DEBOUNCE_MS,
      maxWaitMs: 0,
      intervalMs: INTERVAL_MS,
      missingVersion: 0,
      quiet: true,
      ignoreChangesWhenStopped: true,
      saveOnlyWhenDirty: true,
      sessionLoss: "stop",
      confirmLeave: true,
      inputFilter: function (event) {
        return event.target && event.target.tagName.toLowerCase() === "textarea";
      },
      payload: function () {
        return { scores: collect() };
      },
      savedReply: function (code, body) {
        // 422: saved except the comments named in body.errors (e.g. one holding a personal code).
        return (code === 200 || code === 422) && body && typeof body.lock_version === "number";
      },
      conflictMessage: function (body) {
        return body.error && body.error.message;
      },
      closedMessage: function (body) {
        return (body && body.error && body.error.message) || form.getAttribute("data-msg-locked");
      }
    });
    if (!autosave) {
      return;
    }

    function updateTotal() {
      if (!totalOutput) {
        return;
      }
      var total = 0;
      for (var i = 0; i < groups.length; i++) {
        var checked = groups[i].querySelector("input[type='radio']:checked");
        var weight = parseFloat(groups[i].getAttribute("data-weight") || "0");
        if (checked && !isNaN(weight)) {
          total += weight * parseInt(checked.value, 10);
        }
      }
      totalOutput.textContent = formatNumber(Math.round(total * 1000) / 1000);
    }

    form.addEventListener("change", function (event) {
      if (event.target && event.target.type === "radio") {
        updateTotal();
      }
    });

    // A button press posts the whole form itself: wait for a save under way (it changes the version).
    // Listening on the document runs this after portal.js's confirmation prompt (registered first).
    document.addEventListener("submit", function (event) {
      if (event.target !== form || event.defaultPrevented) {
        return; // another form, or a confirmation prompt was declined
      }
      autosave.cancel();
      var pending = autosave.pending();
      if (pending) {
        event.preventDefault();
        var submitter = event.submitter || null;
        pending.then(function () {
          autosave.setState("submitting");
          if (submitter) {
            submitter.removeAttribute("data-confirm"); // already confirmed once
          }
          window.PortalAutosave.resubmit(form, submitter);
        });
        return;
      }
      autosave.setState("submitting");
    });

    updateTotal();
  }


  function start() {
    var form = document.getElementById("scoring-form");
    if (form) {
      init(form);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
