// Sorting and filtering for tables marked class="sortable". The page reads
// the same without it (the tables are complete HTML); nothing is fetched.
(function () {
  "use strict";
  var each = function (list, f) { Array.prototype.forEach.call(list, f); };
  var english = document.documentElement.lang === "en";
  function value(row, i) {
    var cell = row.cells[i];
    if (!cell) return "";
    var key = cell.getAttribute("data-sort");
    return key !== null ? key : cell.textContent.trim();
  }
  function compare(a, b, numeric) {
    if (numeric) {
      var x = parseFloat(a), y = parseFloat(b);
      return (isNaN(x) ? -Infinity : x) - (isNaN(y) ? -Infinity : y) || 0;
    }
    return a.localeCompare(b, "vi");
  }
  each(document.querySelectorAll("table.sortable"), function (table) {
    var body = table.tBodies[0];
    if (!body || !table.tHead) return;
    var headers = table.tHead.rows[0].cells;
    each(headers, function (th, i) {
      th.tabIndex = 0;
      th.title = english ? "Sort" : "Sắp xếp";
      th.classList.add("sort");
      function sort() {
        var descending = th.getAttribute("aria-sort") === "ascending";
        each(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var numeric = th.classList.contains("n") || th.getAttribute("data-type") === "number";
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) { var r = compare(value(a, i), value(b, i), numeric); return descending ? -r : r; });
        each(rows, function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
    var input = document.createElement("input");
    input.type = "search";
    input.className = "filter";
    input.placeholder = english ? "Filter…" : "Lọc bảng…";
    input.setAttribute("aria-label", english ? "Filter the table" : "Lọc bảng");
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      each(body.rows, function (r) {
        var text = r.textContent.toLowerCase();
        r.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
      });
    });
    table.parentNode.insertBefore(input, table);
  });
})();
