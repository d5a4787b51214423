/* Client-side sorting for <table data-sortable> — progressive enhancement only.
 *
 * Without this file the column headings are links (?sort=key, ?sort=-key) that the server sorts by.
 * With it, the same links sort the rows in place: cells give their value in data-sort-value, numeric
 * columns are marked data-type="number" on their <th>, the sorted heading gets aria-sort, the address
 * and the export links keep the sort (so reload and download match the screen), and a status region
 * (data-status="id") announces the new order. The <tfoot> totals never move.
 */
(function () {
  "use strict";

  function cellValue(row, index) {
    var cell = row.children[index];
    if (!cell) {
      return "";
    }
    var value = cell.getAttribute("data-sort-value");
    return value === null ? cell.textContent.trim() : value;
  }

  function comparer(index, numeric, descending, collator) {
    return function (a, b) {
      var x = cellValue(a, index);
      var y = cellValue(b, index);
      // Empty values (no data) come last in both directions, as on the server.
      if (x === "" || y === "") {
        return x === y ? 0 : x === "" ? 1 : -1;
      }
      var result = numeric ? parseFloat(x) - parseFloat(y) : collator.compare(x, y);
      return descending ? -result : result;
    };
  }

  function sortParam(key, descending) {
    return (descending ? "-" : "") + key;
  }

  function withSort(href, value) {
    var url = new URL(href, window.location.href);
    url.searchParams.set("sort", value);
    return url.pathname + url.search + url.hash;
  }

  function initTable(table) {
    var head = table.tHead;
    var body = table.tBodies[0];
    if (!head || !body) {
      return;
    }
    var collator = new Intl.Collator(document.documentElement.lang || "lv", { sensitivity: "base", numeric: true });
    var headers = Array.prototype.slice.call(head.rows[0].cells);
    var status = document.getElementById(table.getAttribute("data-status") || "");

    headers.forEach(function (th, index) {
      var link = th.querySelector("a[data-sort-key]");
      if (!link) {
        return;
      }
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var key = link.getAttribute("data-sort-key");
        var descending = th.getAttribute("aria-sort") === "ascending";
        var rows = Array.prototype.slice.call(body.rows);
        // Array.prototype.sort is stable: equal values keep their current order.
        rows.sort(comparer(index, th.getAttribute("data-type") === "number", descending, collator));
        rows.forEach(function (row) {
          body.appendChild(row);
        });

        headers.forEach(function (other) {
          other.removeAttribute("aria-sort");
          var otherLink = other.querySelector("a[data-sort-key]");
          if (otherLink) {
            otherLink.setAttribute("href", withSort(otherLink.getAttribute("href"), otherLink.getAttribute("data-sort-key")));
          }
        });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        link.setAttribute("href", withSort(link.getAttribute("href"), sortParam(key, !descending)));

        var current = sortParam(key, descending);
        document.querySelectorAll("a[data-keeps-sort]").forEach(function (a) {
          a.setAttribute("href", withSort(a.getAttribute("href"), current));
        });
        document.querySelectorAll("form input[type=hidden][name=sort]").forEach(function (input) {
          input.value = current;
        });
        if (window.history && window.history.replaceState) {
          window.history.replaceState(null, "", withSort(window.location.href, current));
        }
        if (status) {
          var template = status.getAttribute("data-sorted-template") || "{column}";
          status.textContent = template.replace("{column}", link.textContent.trim());
        }
      });
    });
  }

  function init() {
    document.querySelectorAll("table[data-sortable]").forEach(initTable);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
