/* Deadline countdown — progressive enhancement of the server-rendered "N days left".
 *
 * Markup (calls/show_call.html):
 *   <p class="countdown" data-countdown data-deadline="ISO" data-server-now="ISO" data-lang="lv"
 *      data-template="{time} left" data-closed="The deadline has passed.">12 days left</p>
 *
 * The deadline is enforced on the server; this only keeps the text current. The browser's clock may be
 * wrong, so the time left is measured from the server's clock at page load. Units and their plural
 * forms (Latvian has three) come from Intl.NumberFormat; without it the server's text stays as it is.
 * The element is not a live region: a screen reader is not interrupted every second.
 */
(function () {
  "use strict";

  var DAY = 86400000;
  var HOUR = 3600000;
  var MINUTE = 60000;

  function unitFormatter(lang, unit) {
    try {
      return new Intl.NumberFormat(lang, { style: "unit", unit: unit, unitDisplay: "long" });
    } catch (e) {
      return null;
    }
  }

  function init(element) {
    var deadline = Date.parse(element.getAttribute("data-deadline"));
    var serverNow = Date.parse(element.getAttribute("data-server-now"));
    if (isNaN(deadline) || isNaN(serverNow)) {
      return;
    }
    var lang = element.getAttribute("data-lang") || document.documentElement.lang || "lv";
    var template = element.getAttribute("data-template") || "{time}";
    var closedText = element.getAttribute("data-closed") || "";
    var units = {
      day: unitFormatter(lang, "day"),
      hour: unitFormatter(lang, "hour"),
      minute: unitFormatter(lang, "minute"),
      second: unitFormatter(lang, "second")
    };
    if (!units.day || !units.hour || !units.minute || !units.second) {
      return; // an old browser: keep the server's text
    }
    var skew = serverNow - Date.now();
    var timer = null;

    function render() {
      var left = deadline - (Date.now() + skew);
      if (left < 0) {
        element.textContent = closedText;
        if (timer) {
          window.clearInterval(timer);
        }
        return;
      }
      var parts;
      if (left >= DAY) {
        parts = [units.day.format(Math.floor(left / DAY)), units.hour.format(Math.floor((left % DAY) / HOUR))];
      } else if (left >= HOUR) {
        parts = [units.hour.format(Math.floor(left / HOUR)), units.minute.format(Math.floor((left % HOUR) / MINUTE))];
      } else {
        parts = [units.minute.format(Math.floor(left / MINUTE)), units.second.format(Math.floor((left % MINUTE) / 1000))];
      }
      element.textContent = template.replace("{time}", parts.join(" "));
    }

    render();
    timer = window.setInterval(render, 1000);
  }

  function start() {
    var elements = document.querySelectorAll("[data-countdown]");
    for (var i = 0; i < elements.length; i++) {
      init(elements[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
