// Flask-Admin writes a few inline onclick handlers, which our Content-Security-Policy blocks.
// Re-attach the known ones here (no eval: the attribute is only parsed for its argument).
(function () {
  "use strict";
  function unquote(text) { return text.replace(/\\'/g, "'"); }
  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[onclick]") : null;
    if (!el) { return; }
    var code = el.getAttribute("onclick") || "";
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
  }, true);
})();
