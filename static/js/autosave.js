/* Autosave shared by the application form, the score sheet and the final report — progressive enhancement.
 *
 * window.PortalAutosave.create(options) watches a form and sends it to POST <url> as JSON
 * {lock_version, ...options.payload()} with the CSRF token in X-CSRFToken, debounced after each change.
 * Replies: 200 (and, by default, 422 with a lock_version: the rest was saved) {lock_version, message};
 * 409 {conflict} (another window saved first: nothing is overwritten until the person chooses);
 * 409 otherwise (the form can no longer change); 400/401 (session or CSRF token lost): see `sessionLoss`;
 * anything else, or no answer: retried later with back-off. Input stays in memory only (never localStorage).
 * Every text comes from the page (data-msg-* attributes on the form, or the server's reply).
 *
 * Options (only `form` and `payload` are required):
 *   form, url (data-autosave-url), versionInput (input[name=lock_version]), status (the aria-live element),
 *   payload()          the body besides lock_version, e.g. {step, values}
 *   missingVersion     lock_version sent when the input holds no number (null)
 *   debounceMs (3000), maxWaitMs (10000: save at least this often while typing goes on; 0: never forced),
 *   intervalMs (0)     save every so often while something is unsaved
 *   inputFilter(event) which "input" events count as changes (all)
 *   ignoreChangesWhenStopped  edits made while saving is stopped are not counted (false)
 *   saveOnlyWhenDirty  save() does nothing when nothing is unsaved (false)
 *   quiet              an empty message leaves the status line as it is (false)
 *   savedReply(code, body)    whether a reply means "saved" (200, or 422 with a lock_version)
 *   labelFor(name)     the label naming a field in the 422 message (the field's <label for=id>)
 *   conflictNotice, conflictList, conflictItem(item) → <li>, conflictMessage(body) (body.message),
 *   keepMine           the "Keep my version" button
 *   closedMessage(body)       the status for a 409 that is no conflict (data-msg-submitted)
 *   sessionLoss        "poll": 400/401 show loginNotice and poll GET <url> for a fresh token, then save;
 *                      "refresh": as "poll" for 401; a 400 fetches a fresh token at once and saves again;
 *                      "stop": 400/401/404 or a redirect stop autosaving (data-msg-failed)
 *   loginNotice, focusLoginNotice (false),
 *   guardSubmit        a button press waits for a save under way and never posts into a lost session
 *   flushOnLeave       a hidden or closing page sends what is unsaved (keepalive)
 *   confirmLeave       leaving with unsaved changes asks for confirmation (data-msg-unsaved)
 *
 * The returned object: changed(), save(options), dirty(), state(), setState(name), pending() (the
 * request under way, or null), cancel() (the timer), loginNotice.
 */
(function () {
  "use strict";

  var RETRY_MS = [5000, 10000, 20000, 40000, 60000];
  var AUTH_POLL_MS = 5000;

  function defaultConflictItem(item) {
    var li = document.createElement("li");
    var strong = document.createElement("strong");
    strong.textContent = item.label + ": ";
    li.appendChild(strong);
    li.appendChild(document.createTextNode(item.value));
    return li;
  }

  // The form's fields as {name: value}; repeated names give lists; checkboxes give their value or "".
  function formValues(form, skip) {
    var values = {};
    var elements = form.elements;
    for (var i = 0; i < elements.length; i++) {
      var el = elements[i];
      var name = el.name;
      if (!name || el.disabled || skip.indexOf(name) !== -1) {
        continue;
      }
      var tag = el.tagName.toLowerCase();
      var type = (el.type || "").toLowerCase();
      if (tag === "button" || type === "submit" || type === "button" || type === "file" || type === "reset") {
        continue;
      }
      if (type === "radio" && !el.checked) {
        continue;
      }
      var value = type === "checkbox" ? (el.checked ? el.value || "y" : "") : el.value;
      if (Object.prototype.hasOwnProperty.call(values, name)) {
        values[name] = [].concat(values[name], value);
      } else {
        values[name] = value;
      }
    }
    return values;
  }

  // Post the form again after an interruption, with the button that was pressed.
  function resubmit(form, submitter) {
    if (form.requestSubmit) {
      form.requestSubmit(submitter);
    } else if (submitter) {
      submitter.click();
    } else {
      form.submit();
    }
  }

  function create(options) {
    var form = options.form;
    var url = options.url || form.getAttribute("data-autosave-url");
    var versionInput = options.versionInput || form.querySelector("input[name='lock_version']");
    if (!url || !versionInput) {
      return null;
    }
    var status = options.status || null;
    var loginNotice = options.loginNotice || null;
    var conflictNotice = options.conflictNotice || null;
    var conflictList = options.conflictList || null;
    var debounceMs = options.debounceMs || 3000;
    var maxWaitMs = options.maxWaitMs === undefined ? 10000 : options.maxWaitMs;
    var missingVersion = options.missingVersion === undefined ? null : options.missingVersion;
    var sessionLoss = options.sessionLoss || "poll";

    var changes = 0; // bumped on every edit
    var savedChanges = 0; // the edit count the last successful save included
    var firstUnsavedAt = null;
    var timer = null;
    var inFlight = null; // the promise of the request under way
    var retries = 0;
    var state = "ok"; // ok | auth | conflict | closed | failed | submitting
    var conflictVersion = null;
    var pollTimer = null;
    var lastTokenRefresh = 0; // a fresh token that is refused too must not loop: then retry slowly

    function dirty() {
      return changes !== savedChanges;
    }

    function say(text) {
      if (!status || (options.quiet && !text)) {
        return;
      }
      status.textContent = text || "";
    }

    function csrfToken() {
      var input = form.querySelector("input[name='csrf_token']");
      return input ? input.value : "";
    }

    function setCsrfToken(token) {
      // Every form on the page (the language switch and logout too) gets the new session's token.
      var inputs = document.querySelectorAll("input[name='csrf_token']");
      for (var i = 0; i < inputs.length; i++) {
        inputs[i].value = token;
      }
    }

    function labelFor(name) {
      if (options.labelFor) {
        return options.labelFor(name);
      }
      var el = form.elements[name];
      if (el && el.length && !el.tagName) {
        el = el[0];
      }
      if (el && el.id) {
        var label = form.querySelector("label[for='" + el.id + "']");
        if (label) {
          return label.textContent.trim();
        }
      }
      return name;
    }

    function schedule() {
      if (state !== "ok") {
        return;
      }
      var wait = debounceMs;
      if (maxWaitMs) {
        var now = Date.now();
        if (firstUnsavedAt === null) {
          firstUnsavedAt = now;
        }
        wait = Math.max(0, Math.min(debounceMs, firstUnsavedAt + maxWaitMs - now));
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(save, wait);
    }

    function changed() {
      if (options.ignoreChangesWhenStopped && state !== "ok") {
        return;
      }
      changes += 1;
      schedule();
    }

    /* --- a lost session or CSRF token: keep the input in memory, get a fresh token, then save --- */

    function authLost() {
      state = "auth";
      if (loginNotice) {
        loginNotice.hidden = false;
      }
      window.clearTimeout(pollTimer);
      pollTimer = window.setTimeout(pollToken, AUTH_POLL_MS);
    }

    function recovered(data) {
      if (data.csrf_token) {
        setCsrfToken(data.csrf_token);
      }
      if (loginNotice) {
        loginNotice.hidden = true;
      }
      state = "ok";
      save();
    }

    function fetchToken() {
      return fetch(url, {
        method: "GET",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-Requested-With": "fetch" }
      }).then(function (response) {
        if (!response.ok || response.redirected) {
          throw response;
        }
        return response.json();
      });
    }

    function pollToken() {
      fetchToken()
        .then(recovered)
        .catch(function () {
          pollTimer = window.setTimeout(pollToken, AUTH_POLL_MS);
        });
    }

    /* --- replies --- */

    function retryLater() {
      var wait = RETRY_MS[Math.min(retries, RETRY_MS.length - 1)];
      retries += 1;
      say(form.getAttribute("data-msg-offline"));
      window.clearTimeout(timer);
      timer = window.setTimeout(save, wait);
    }

    function isSaved(code, body) {
      if (options.savedReply) {
        return options.savedReply(code, body);
      }
      return code === 200 || (code === 422 && body && body.lock_version);
    }

    function saved(code, body, sentChanges) {
      retries = 0;
      versionInput.value = body.lock_version;
      savedChanges = sentChanges;
      if (maxWaitMs && !dirty()) {
        firstUnsavedAt = null;
      }
      if (body.session_expires_at) {
        document.dispatchEvent(
          new CustomEvent("jip:session-extended", { detail: { expires_at: body.session_expires_at } })
        );
      }
      if (code === 422 && body.errors) {
        var lines = Object.keys(body.errors).map(function (name) {
          return labelFor(name) + ": " + body.errors[name];
        });
        say(body.message + ". " + form.getAttribute("data-msg-not-saved") + " " + lines.join("; "));
      } else {
        say(body.message);
      }
      if (maxWaitMs && dirty()) {
        schedule();
      }
    }

    function showConflict(body) {
      state = "conflict";
      conflictVersion = body.lock_version;
      if (conflictList) {
        conflictList.innerHTML = "";
        (body.fields || []).forEach(function (item) {
          conflictList.appendChild((options.conflictItem || defaultConflictItem)(item));
        });
      }
      if (conflictNotice) {
        conflictNotice.hidden = false;
      }
      say(options.conflictMessage ? options.conflictMessage(body) : body.message);
    }

    function handle(response, body, sentChanges, keepalive) {
      var code = response.status;
      if (response.redirected && sessionLoss !== "stop") {
        code = 401; // an old server answered with the login page
      }
      if (isSaved(code, body)) {
        saved(code, body, sentChanges);
        return;
      }
      if (code === 409 && body && body.conflict) {
        showConflict(body);
        return;
      }
      if (code === 409) {
        state = "closed";
        say(options.closedMessage ? options.closedMessage(body) : form.getAttribute("data-msg-submitted"));
        return;
      }
      if (sessionLoss === "stop") {
        if (code === 400 || code === 401 || code === 404 || response.redirected) {
          // The session ended or the token changed: keep the input on the page; a button press posts it.
          state = "failed";
          say(form.getAttribute("data-msg-failed"));
          return;
        }
      } else if (code === 401 || (code === 400 && sessionLoss === "poll")) {
        authLost();
        return;
      } else if (code === 400 && !keepalive && Date.now() - lastTokenRefresh > AUTH_POLL_MS) {
        // The CSRF token no longer matches the session (a login elsewhere): get a fresh one and retry.
        lastTokenRefresh = Date.now();
        fetchToken().then(recovered).catch(authLost);
        return;
      }
      retryLater();
    }

    function save(saveOptions) {
      saveOptions = saveOptions || {};
      window.clearTimeout(timer);
      if (options.saveOnlyWhenDirty && (state !== "ok" || !dirty())) {
        return Promise.resolve(null);
      }
      if (inFlight) {
        return inFlight.then(function () {
          return dirty() && state === "ok" ? save(saveOptions) : null;
        });
      }
      if (state !== "ok") {
        return Promise.resolve(null);
      }
      var sentChanges = changes;
      var version = parseInt(versionInput.value, 10);
      say(form.getAttribute("data-msg-saving"));
      inFlight = fetch(url, {
        method: "POST",
        credentials: "same-origin",
        keepalive: !!saveOptions.keepalive,
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
          "X-Requested-With": "fetch"
        },
        body: JSON.stringify(Object.assign({ lock_version: isNaN(version) ? missingVersion : version }, options.payload()))
      })
        .then(function (response) {
          return response
            .json()
            .catch(function () {
              return null;
            })
            .then(function (body) {
              handle(response, body, sentChanges, saveOptions.keepalive);
            });
        })
        .catch(function () {
          retryLater();
        })
        .then(function () {
          inFlight = null;
        });
      return inFlight;
    }

    /* --- wiring --- */

    form.addEventListener("input", function (event) {
      if (!options.inputFilter || options.inputFilter(event)) {
        changed();
      }
    });
    form.addEventListener("change", changed);
    form.addEventListener("jip:rows-changed", function () {
      changes += 1;
      save();
    });

    if (options.keepMine) {
      options.keepMine.addEventListener("click", function () {
        if (conflictVersion !== null) {
          versionInput.value = conflictVersion;
        }
        if (conflictNotice) {
          conflictNotice.hidden = true;
        }
        state = "ok";
        changes += 1;
        save();
      });
    }

    if (options.intervalMs) {
      // While something is unsaved (typing a long comment never waits for a pause).
      window.setInterval(function () {
        if (dirty() && state === "ok" && !inFlight) {
          save();
        }
      }, options.intervalMs);
    }

    if (options.guardSubmit) {
      // A button press saves the whole form itself: wait for a save under way (it changes the version),
      // and never post into a lost session (the input would be lost with the login page).
      form.addEventListener("submit", function (event) {
        if (state === "auth") {
          event.preventDefault();
          if (loginNotice) {
            loginNotice.hidden = false;
            if (options.focusLoginNotice) {
              loginNotice.setAttribute("tabindex", "-1");
              loginNotice.focus();
            }
          }
          return;
        }
        if (inFlight) {
          event.preventDefault();
          var submitter = event.submitter || null;
          inFlight.then(function () {
            if (state !== "auth") {
              resubmit(form, submitter);
            }
          });
          return;
        }
        window.clearTimeout(timer);
        state = state === "ok" ? "submitting" : state;
      });
    }

    if (options.flushOnLeave) {
      // The tab is closing or hidden: send what is unsaved (keepalive lets the request outlive the page).
      var flush = function () {
        if (dirty() && state === "ok" && !inFlight) {
          save({ keepalive: true });
        }
      };
      window.addEventListener("pagehide", flush);
      document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "hidden") {
          flush();
        }
      });
    }

    if (options.confirmLeave) {
      window.addEventListener("beforeunload", function (event) {
        if (dirty() && state !== "submitting") {
          event.preventDefault();
          event.returnValue = form.getAttribute("data-msg-unsaved") || "";
          return event.returnValue;
        }
        return undefined;
      });
    }

    return {
      changed: changed,
      save: save,
      dirty: dirty,
      state: function () {
        return state;
      },
      setState: function (name) {
        state = name;
      },
      pending: function () {
        return inFlight;
      },
      cancel: function () {
        window.clearTimeout(timer);
      },
      loginNotice: loginNotice
    };
  }

  window.PortalAutosave = { create: create, formValues: formValues, resubmit: resubmit };
})();
