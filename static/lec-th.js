// Thai for the words Flask-Admin's JavaScript widgets write themselves (select2 3.5 and
// x-editable, the page-size menu); loaded only on Thai pages. The list page loads x-editable after this script, so
// the defaults are set on DOM ready, which jQuery runs before Flask-Admin's own ready handler.
(function ($) {
  "use strict";
  if (!$) { return; }
  $(function () {
    // The page-size menu's "20 items" is built from a number, so no catalogue entry can match it.
    $(".dropdown-item, .dropdown-toggle").each(function () {
      var text = $(this).text().trim(), m = text.match(/^(\d+) items?$/);
      if (m) { $(this).text(m[1] + " รายการ"); }
    });
  if ($.fn.select2) {
    $.extend($.fn.select2.defaults, {
      formatNoMatches: function () { return "ไม่พบข้อมูลที่ตรงกัน"; },
      formatInputTooShort: function (input, min) { return "กรุณาพิมพ์อีกอย่างน้อย " + (min - input.length) + " ตัวอักษร"; },
      formatInputTooLong: function (input, max) { return "กรุณาลบออก " + (input.length - max) + " ตัวอักษร"; },
      formatSelectionTooBig: function (limit) { return "เลือกได้ไม่เกิน " + limit + " รายการ"; },
      formatLoadMore: function () { return "กำลังโหลดข้อมูลเพิ่ม…"; },
      formatSearching: function () { return "กำลังค้นหา…"; },
      formatAjaxError: function () { return "โหลดข้อมูลไม่สำเร็จ"; }
    });
  }
  if ($.fn.editable) {
    $.fn.editable.defaults.emptytext = "ว่าง";
    if ($.fn.editabletypes && $.fn.editabletypes.text) {
      $.fn.editabletypes.text.defaults.clear = false;
    }
    if ($.fn.editableform) {
      $.fn.editableform.loading = "<div class=\"editableform-loading\">กำลังบันทึก…</div>";
    }
  }
  });
})(window.jQuery);
