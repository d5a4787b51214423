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
  var RETRY_MS = [5000, 10000, 20000, 40000, 60000];

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
    var url = form.getAttribute("data-autosave-url");
    var versionInput = form.querySelector("input[name='lock_version']");
    var status = document.getElementById("scoring-status");
    var conflictNotice = document.getElementById("scoring-conflict");
    var totalOutput = document.getElementById("scoring-total");
    var groups = form.querySelectorAll("fieldset[data-criterion]");
    if (!url || !versionInput) {
      return;
    }

    var changes = 0; // bumped on every edit
    var savedChanges = 0; // the edit count the last successful save included
    var timer = null;
    var inFlight = null;
    var retries = 0;
    var state = "ok"; // ok | conflict | locked | submitting

    function dirty() {
      return changes !== savedChanges;
    }

    function say(text) {
      if (status && text) {
        status.textContent = text;
      }
    }

    function csrfToken() {
      var input = form.querySelector("input[name='csrf_token']");
      return input ? input.value : "";
    }

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

    function schedule(delay) {
      window.clearTimeout(timer);
      timer = window.setTimeout(save, delay);
    }

    function changed(event) {
      if (event && event.target && event.target.type === "radio") {
        updateTotal();
      }
      if (state !== "ok") {
        return;
      }
      changes += 1;
      schedule(DEBOUNCE_MS);
    }

    function handle(response, body, sentChanges) {
      var code = response.status;
      if (code === 200 && body && typeof body.lock_version === "number") {
        retries = 0;
        versionInput.value = body.lock_version;
        savedChanges = sentChanges;
        say(body.message);
        if (body.session_expires_at) {
          document.dispatchEvent(
            new CustomEvent("jip:session-extended", { detail: { expires_at: body.session_expires_at } })
          );
        }
        return;
      }
      if (code === 409 && body && body.conflict) {
        state = "conflict";
        if (conflictNotice) {
          conflictNotice.hidden = false;
        }
        say(body.error && body.error.message);
        return;
      }
      if (code === 409) {
        state = "locked";
        say((body && body.error && body.error.message) || form.getAttribute("data-msg-locked"));
        return;
      }
      if (code === 400 || code === 401 || code === 404 || response.redirected) {
        // The session ended or the token changed: keep the choices on the page; a button press posts them.
        state = "failed";
        say(form.getAttribute("data-msg-failed"));
        return;
      }
      retryLater();
    }

    function retryLater() {
      var wait = RETRY_MS[Math.min(retries, RETRY_MS.length - 1)];
      retries += 1;
      say(form.getAttribute("data-msg-offline"));
      schedule(wait);
    }

    function save() {
      window.clearTimeout(timer);
      if (state !== "ok" || !dirty()) {
        return Promise.resolve(null);
      }
      if (inFlight) {
        return inFlight.then(save);
      }
      var sentChanges = changes;
      var version = parseInt(versionInput.value, 10);
      say(form.getAttribute("data-msg-saving"));
      inFlight = fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
          "X-Requested-With": "fetch"
        },
        body: JSON.stringify({ lock_version: isNaN(version) ? 0 : version, scores: collect() })
      })
        .then(function (response) {
          return response
            .json()
            .catch(function () {
              return null;
            })
            .then(function (body) {
              handle(response, body, sentChanges);
            });
        })
        .catch(retryLater)
        .then(function () {
          inFlight = null;
        });
      return inFlight;
    }

    form.addEventListener("change", changed);
    form.addEventListener("input", function (event) {
      if (event.target && event.target.tagName.toLowerCase() === "textarea") {
        changed(event);
      }
    });

    // Every 10 s while something is unsaved (typing a long comment never waits for a pause).
    window.setInterval(function () {
      if (dirty() && state === "ok" && !inFlight) {
        save();
      }
    }, INTERVAL_MS);

    // A button press posts the whole form itself: wait for a save under way (it changes the version).
    // Listening on the document runs this after portal.js's confirmation prompt (registered first).
    document.addEventListener("submit", function (event) {
      if (event.target !== form || event.defaultPrevented) {
        return; // another form, or a confirmation prompt was declined
      }
      window.clearTimeout(timer);
      if (inFlight) {
        event.preventDefault();
        var submitter = event.submitter || null;
        inFlight.then(function () {
          state = "submitting";
          if (submitter) {
            submitter.removeAttribute("data-confirm"); // already confirmed once
          }
          if (form.requestSubmit) {
            form.requestSubmit(submitter);
          } else if (submitter) {
            submitter.click();
          } else {
            form.submit();
          }
        });
        return;
      }
      state = "submitting";
    });

    window.addEventListener("beforeunload", function (event) {
      if (dirty() && state !== "submitting") {
        event.preventDefault();
        event.returnValue = form.getAttribute("data-msg-unsaved") || "";
        return event.returnValue;
      }
      return undefined;
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
