// Flask-Admin writes a few inline onclick handlers and javascript: links, which our
// Content-Security-Policy blocks. Before any click, move each handler's text into a data
// attribute and run the known handlers from here (no eval: the text is only parsed).
(function () {
  "use strict";
  function unquote(text) { return text.replace(/\\'/g, "'"); }

  function disarm(root) {
    var nodes = root.querySelectorAll ? root.querySelectorAll("[onclick], a[href^='javascript:']") : [];
    Array.prototype.forEach.call(nodes, function (el) {
      if (el.hasAttribute("onclick")) {
        el.setAttribute("data-lec-onclick", el.getAttribute("onclick"));
        el.removeAttribute("onclick");
      }
      if (/^javascript:/i.test(el.getAttribute("href") || "")) {
        el.setAttribute("href", "#");
        el.setAttribute("data-lec-nolink", "1");
      }
    });
  }

  function run(el, event) {
    var code = el.getAttribute("data-lec-onclick") || "";
    var m = code.match(/modelActions\.execute\('((?:\\'|[^'])*)'\)/);
    if (m && window.modelActions) {
      event.preventDefault();
      window.modelActions.execute(unquote(m[1]));
      return;
    }
    m = code.match(/(?:safeConfirm|confirm)\('((?:\\'|[^'])*)'\)/);
    if (m) {
      if (!window.confirm(unquote(m[1]))) { event.preventDefault(); event.stopPropagation(); }
      return;
    }
    m = code.match(/faForm\.addInlineField\(this, '((?:\\'|[^'])*)'\)/);
    if (m && window.faForm) {
      event.preventDefault();
      window.faForm.addInlineField(el, unquote(m[1]));
      return;
    }
    if (/return false/.test(code)) { event.preventDefault(); }
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest) { return; }
    var el = event.target.closest("[data-lec-onclick]");
    if (el) { run(el, event); }
    var link = event.target.closest("[data-lec-nolink]");
    if (link) { event.preventDefault(); }
  }, true);

  disarm(document);
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      Array.prototype.forEach.call(change.addedNodes, function (node) {
        if (node.nodeType === 1) { disarm(node.parentNode || node); }
      });
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
