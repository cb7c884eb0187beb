// A page following jobs (my jobs, an import being checked): ask each waiting or running job how
// far it is every two seconds, move its progress bar, and reload the page once a job has
// finished (to show its download link or its result) or has stalled (its worker gone).
(function () {
  "use strict";
  var rows = document.querySelectorAll("[data-job-progress]");
  function active(row) {
    var status = row.getAttribute("data-job-status");
    return status === "queued" || status === "running";
  }
  function poll(row) {
    fetch(row.getAttribute("data-job-progress"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { return; }
        var bar = row.querySelector(".lec-job-bar");
        row.querySelector(".lec-job-label").textContent = s.label;
        if (s.stalled !== row.hasAttribute("data-job-stalled")) {
          window.location.reload();  // to show (or take away) the button Run again
          return;
        }
        if (s.total && bar) {
          bar.max = s.total;
          bar.value = s.done;
          row.querySelector(".lec-job-count").textContent =
            s.done.toLocaleString() + " / " + s.total.toLocaleString();
        }
        if (s.status !== row.getAttribute("data-job-status") &&
            (s.status === "done" || s.status === "failed")) {
          window.location.reload();
          return;
        }
        row.setAttribute("data-job-status", s.status);
        window.setTimeout(function () { poll(row); }, 2000);
      });
  }
  Array.prototype.forEach.call(rows, function (row) { if (active(row)) { poll(row); } });
}());
