// Inline editors of a list, loaded after x-editable and before Flask-Admin starts them.
// x-editable reads a data-source list with eval, which our Content-Security-Policy forbids:
// it then took the list for a URL and the select never opened. JSON needs no eval.
// The editors also name their choice list (data-lec-source) instead of each carrying it: the
// page sends every list once as hidden JSON text, put back here as the data-source x-editable reads.
(function () {
  "use strict";
  var utils = window.jQuery && jQuery.fn.editableutils;
  if (utils) {
    var parse = utils.tryParseJson;
    utils.tryParseJson = function (text, quiet) {
      if (typeof text === "string" && /^\s*[\[{]/.test(text)) {
        try { return JSON.parse(text); } catch (ignored) { /* x-editable decides */ }
      }
      return parse.call(this, text, quiet);
    };
  }
  var lists = {};
  Array.prototype.forEach.call(document.querySelectorAll("[data-lec-source]"), function (el) {
    var name = el.getAttribute("data-lec-source");
    if (!(name in lists)) {
      var block = document.getElementById(name);
      lists[name] = block ? block.textContent : "[]";
    }
    el.setAttribute("data-source", lists[name]);
  });
})();
