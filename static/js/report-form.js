/* The final report form: autosave, the live PMP-risk share and rows — progressive enhancement only.
 *
 * Without this file the page still works: "Save" stores the report, "Add …" and "Remove …" post the form.
 *
 *  1. Autosave: after typing stops for 3 s (at least every 10 s while typing goes on) the form's fields
 *     are sent to POST <data-autosave-url> as JSON {lock_version, values} with the CSRF token in
 *     X-CSRFToken. Replies: 200 {lock_version, message}; 422 {errors} (the rest was saved); 409
 *     {conflict, lock_version} (another window saved first: nothing is overwritten until the person
 *     chooses "Keep my version"); 401/400 (logged out, or a new session): the input stays on the page only
 *     (never localStorage), and the script polls GET <data-autosave-url> for a fresh token, then saves.
 *  2. The PMP-risk share, computed as the server does (two decimals, never rounded up).
 *  3. Rows of activities, schools, indicators and links added and removed in place, renumbered so the
 *     input names stay 0, 1, 2… (the server's messages name rows by their place).
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 3000;
  var MAX_WAIT_MS = 10000;
  var RETRY_MS = [5000, 10000, 20000, 40000, 60000];
  var AUTH_POLL_MS = 5000;

  function setText(element, text) {
    if (element) {
      element.textContent = text;
    }
  }

  function digitsOnly(value) {
    var text = String(value || "").replace(/[\s\u00a0\u202f\u2009]+/g, "");
    return /^[0-9]{1,9}$/.test(text) ? parseInt(text, 10) : null;
  }

  function formatPercent(hundredths) {
    var lang = document.documentElement.getAttribute("lang") || "lv";
    try {
      return new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(hundredths / 100) + " %";
    } catch (e) {
      return (hundredths / 100).toFixed(2) + " %";
    }
  }

  /* ---------- 1. Autosave ---------- */

  function initAutosave(form) {
    var url = form.getAttribute("data-autosave-url");
    var status = document.getElementById("autosave-status");
    var loginNotice = document.getElementById("autosave-login");
    var conflictNotice = document.getElementById("autosave-conflict");
    var conflictList = document.getElementById("autosave-conflict-fields");
    var keepMine = document.getElementById("autosave-keep-mine");
    var versionInput = form.querySelector("input[name='lock_version']");
    if (!url || !versionInput) {
      return;
    }
    var changes = 0;
    var savedChanges = 0;
    var firstUnsavedAt = null;
    var timer = null;
    var pollTimer = null;
    var inFlight = null;
    var retries = 0;
    var state = "ok"; // ok | auth | conflict | submitted | submitting
    var conflictVersion = null;

    function dirty() {
      return changes !== savedChanges;
    }

    function say(text) {
      setText(status, text || "");
    }

    function csrfToken() {
      var input = form.querySelector("input[name='csrf_token']");
      return input ? input.value : "";
    }

    function collect() {
      var values = {};
      for (var i = 0; i < form.elements.length; i++) {
        var el = form.elements[i];
        var name = el.name;
        var type = (el.type || "").toLowerCase();
        if (!name || el.disabled || name === "csrf_token" || name === "lock_version" || name === "action" || name === "remove_row") {
          continue;
        }
        if (el.tagName.toLowerCase() === "button" || type === "submit" || type === "button" || type === "file") {
          continue;
        }
        var value = type === "checkbox" ? (el.checked ? el.value || "y" : "") : el.value;
        if (type === "radio" && !el.checked) {
          continue;
        }
        values[name] = Object.prototype.hasOwnProperty.call(values, name) ? [].concat(values[name], value) : value;
      }
      return values;
    }

    function schedule() {
      if (state !== "ok") {
        return;
      }
      var now = Date.now();
      if (firstUnsavedAt === null) {
        firstUnsavedAt = now;
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(save, Math.max(0, Math.min(DEBOUNCE_MS, firstUnsavedAt + MAX_WAIT_MS - now)));
    }

    function changed() {
      changes += 1;
      schedule();
    }

    function pollToken() {
      fetch(url, { method: "GET", credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok || response.redirected) {
            throw response;
          }
          return response.json();
        })
        .then(function (data) {
          var inputs = document.querySelectorAll("input[name='csrf_token']");
          for (var i = 0; i < inputs.length; i++) {
            inputs[i].value = data.csrf_token;
          }
          if (loginNotice) {
            loginNotice.hidden = true;
          }
          state = "ok";
          save();
        })
        .catch(function () {
          pollTimer = window.setTimeout(pollToken, AUTH_POLL_MS);
        });
    }

    function authLost() {
      state = "auth";
      if (loginNotice) {
        loginNotice.hidden = false;
      }
      window.clearTimeout(pollTimer);
      pollTimer = window.setTimeout(pollToken, AUTH_POLL_MS);
    }

    function retryLater() {
      var wait = RETRY_MS[Math.min(retries, RETRY_MS.length - 1)];
      retries += 1;
      say(form.getAttribute("data-msg-offline"));
      window.clearTimeout(timer);
      timer = window.setTimeout(save, wait);
    }

    function handle(response, body, sentChanges) {
      var code = response.redirected ? 401 : response.status;
      if (code === 200 || (code === 422 && body && body.lock_version)) {
        retries = 0;
        versionInput.value = body.lock_version;
        savedChanges = sentChanges;
        if (!dirty()) {
          firstUnsavedAt = null;
        }
        if (code === 422 && body.errors) {
          var lines = Object.keys(body.errors).map(function (name) {
            var label = form.querySelector("label[for='" + name + "']");
            return (label ? label.textContent.trim() : name) + ": " + body.errors[name];
          });
          say(body.message + ". " + form.getAttribute("data-msg-not-saved") + " " + lines.join("; "));
        } else {
          say(body.message);
        }
        if (dirty()) {
          schedule();
        }
        return;
      }
      if (code === 409 && body && body.conflict) {
        state = "conflict";
        conflictVersion = body.lock_version;
        if (conflictList) {
          conflictList.innerHTML = "";
          (body.fields || []).forEach(function (item) {
            var li = document.createElement("li");
            li.textContent = item.label;
            conflictList.appendChild(li);
          });
        }
        if (conflictNotice) {
          conflictNotice.hidden = false;
        }
        say(body.message);
        return;
      }
      if (code === 409) {
        state = "submitted";
        say(form.getAttribute("data-msg-submitted"));
        return;
      }
      if (code === 401 || code === 400) {
        authLost();
        return;
      }
      retryLater();
    }

    function save(options) {
      options = options || {};
      window.clearTimeout(timer);
      if (inFlight) {
        return inFlight.then(function () {
          return dirty() && state === "ok" ? save(options) : null;
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
        keepalive: !!options.keepalive,
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
          "X-Requested-With": "fetch"
        },
        body: JSON.stringify({ lock_version: isNaN(version) ? null : version, values: collect() })
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

    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("jip:rows-changed", function () {
      changes += 1;
      save();
    });
    if (keepMine) {
      keepMine.addEventListener("click", function () {
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
    // A button saves the whole form itself: wait for a save under way (it changes the version).
    form.addEventListener("submit", function (event) {
      if (state === "auth") {
        event.preventDefault();
        if (loginNotice) {
          loginNotice.hidden = false;
        }
        return;
      }
      if (inFlight) {
        event.preventDefault();
        var submitter = event.submitter || null;
        inFlight.then(function () {
          if (form.requestSubmit) {
            form.requestSubmit(submitter);
          } else {
            form.submit();
          }
        });
        return;
      }
      window.clearTimeout(timer);
      state = state === "ok" ? "submitting" : state;
    });
    function flush() {
      if (dirty() && state === "ok" && !inFlight) {
        save({ keepalive: true });
      }
    }
    window.addEventListener("pagehide", flush);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") {
        flush();
      }
    });
  }

  /* ---------- 2. The PMP-risk share ---------- */

  function initRiskShare(form) {
    var panel = document.getElementById("risk-share-panel");
    var output = document.getElementById("risk-share");
    var verdict = document.getElementById("risk-share-verdict");
    var total = form.elements.participants_total;
    var risk = form.elements.participants_risk;
    if (!panel || !output || !total || !risk) {
      return;
    }
    var minimum = Math.round(parseFloat(panel.getAttribute("data-min-share") || "0") * 100);

    function update() {
      var t = digitsOnly(total.value);
      var r = digitsOnly(risk.value);
      if (t === null || r === null || t <= 0) {
        setText(output, "–");
        setText(verdict, "");
        return;
      }
      setText(output, formatPercent(Math.floor((r * 10000) / t)));
      setText(verdict, panel.getAttribute(r * 10000 >= minimum * t ? "data-msg-ok" : "data-msg-below"));
    }

    total.addEventListener("input", update);
    risk.addEventListener("input", update);
  }

  /* ---------- 3. Rows ---------- */

  function initRows(form) {
    var groups = form.querySelectorAll("[data-rows]");
    Array.prototype.forEach.call(groups, function (group) {
      var prefix = group.getAttribute("data-rows");
      var maxRows = parseInt(group.getAttribute("data-max-rows") || "30", 10);
      var addButton = group.querySelector("[data-add-row]");
      var pattern = new RegExp("^" + prefix + "-[0-9]+");

      function rows() {
        return Array.prototype.filter.call(group.querySelectorAll("[data-row]"), function (row) {
          return row.parentNode === group;
        });
      }

      function renumber() {
        rows().forEach(function (row, index) {
          var replacement = prefix + "-" + index;
          row.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
            ["name", "id", "for"].forEach(function (attribute) {
              var value = el.getAttribute(attribute);
              if (value) {
                el.setAttribute(attribute, value.replace(pattern, replacement));
              }
            });
            var described = el.getAttribute("aria-describedby");
            if (described) {
              el.setAttribute(
                "aria-describedby",
                described
                  .split(" ")
                  .map(function (id) {
                    return id.replace(pattern, replacement);
                  })
                  .join(" ")
              );
            }
          });
          var n = String(index + 1);
          var legend = row.querySelector("legend");
          if (legend && group.getAttribute("data-row-legend")) {
            setText(legend, group.getAttribute("data-row-legend").replace("__N__", n));
          }
          var remove = row.querySelector("[data-remove-row]");
          if (remove) {
            setText(remove, group.getAttribute("data-remove-label").replace("__N__", n));
            remove.value = prefix + "-" + index;
          }
        });
        if (addButton) {
          addButton.hidden = rows().length >= maxRows;
        }
      }

      function clear(row) {
        row.querySelectorAll(".field-error").forEach(function (el) {
          el.parentNode.removeChild(el);
        });
        row.querySelectorAll(".has-error").forEach(function (el) {
          el.classList.remove("has-error");
        });
        row.querySelectorAll("input, textarea").forEach(function (el) {
          el.value = "";
          el.removeAttribute("aria-invalid");
          var described = (el.getAttribute("aria-describedby") || "")
            .split(" ")
            .filter(function (id) {
              return id && !/-error$/.test(id);
            })
            .join(" ");
          if (described) {
            el.setAttribute("aria-describedby", described);
          } else {
            el.removeAttribute("aria-describedby");
          }
        });
      }

      group.addEventListener("click", function (event) {
        var add = event.target.closest("[data-add-row]");
        var remove = event.target.closest("[data-remove-row]");
        if (add && add.parentNode === group) {
          event.preventDefault();
          var all = rows();
          if (all.length >= maxRows || !all.length) {
            return;
          }
          var last = all[all.length - 1];
          var clone = last.cloneNode(true);
          clear(clone);
          last.parentNode.insertBefore(clone, last.nextSibling);
          renumber();
          var first = clone.querySelector("textarea, input");
          if (first) {
            first.focus();
          }
          form.dispatchEvent(new CustomEvent("jip:rows-changed"));
        } else if (remove) {
          event.preventDefault();
          var row = remove.closest("[data-row]");
          var current = rows();
          var position = current.indexOf(row);
          if (current.length <= 1) {
            clear(row);
          } else {
            row.parentNode.removeChild(row);
          }
          renumber();
          var remaining = rows();
          var focusRow = remaining[Math.min(position, remaining.length - 1)];
          var target = focusRow ? focusRow.querySelector("textarea, input") : addButton;
          if (target) {
            target.focus();
          }
          form.dispatchEvent(new CustomEvent("jip:rows-changed"));
        }
      });
    });
  }

  function init() {
    var form = document.getElementById("report-form");
    if (!form) {
      return;
    }
    initAutosave(form);
    initRiskShare(form);
    initRows(form);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
