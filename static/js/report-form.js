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

  /* ---------- 1. Autosave (static/js/autosave.js) ---------- */

  function initAutosave(form) {
    window.PortalAutosave.create({
      form: form,
      status: document.getElementById("autosave-status"),
      loginNotice: document.getElementById("autosave-login"),
      conflictNotice: document.getElementById("autosave-conflict"),
      conflictList: document.getElementById("autosave-conflict-fields"),
      keepMine: document.getElementById("autosave-keep-mine"),
      sessionLoss: "poll",
      guardSubmit: true,
      flushOnLeave: true,
      payload: function () {
        var skip = ["csrf_token", "lock_version", "action", "remove_row"];
        return { values: window.PortalAutosave.formValues(form, skip) };
      },
      // The report's conflicts name whole sections.
      conflictItem: function (item) {
        var li = document.createElement("li");
        li.textContent = item.label;
        return li;
      },
      labelFor: function (name) {
        var label = form.querySelector("label[for='" + name + "']");
        return label ? label.textContent.trim() : name;
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
