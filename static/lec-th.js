// Thai for the words Flask-Admin's JavaScript widgets write themselves (select2 3.5 and
// x-editable, the page-size menu); loaded only on Thai pages. The list page loads x-editable after this script, so
// the defaults are set on DOM ready, which jQuery runs before Flask-Admin's own ready handler.
(function ($) {
  "use strict";
  if (!$) { return; }
  // Flask-Admin's date and date-range filter pickers: Thai words, day and month names, and
  // years in the Buddhist Era in the year menu (the option values stay the picker's own).
  // The list page builds its active filters' pickers as soon as its scripts load, before DOM
  // ready, so the plugin is wrapped the moment the vendor script installs it.
  var thai = {
    applyLabel: "ตกลง", cancelLabel: "ยกเลิก", fromLabel: "ตั้งแต่", toLabel: "ถึง",
    weekLabel: "สัปดาห์", customRangeLabel: "กำหนดเอง",
    daysOfWeek: ["อา", "จ", "อ", "พ", "พฤ", "ศ", "ส"],
    monthNames: ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.",
                 "ต.ค.", "พ.ย.", "ธ.ค."],
    firstDay: 0
  };
  // The filter box shows and sends dates as Thai offices write them (16/05/2569, a range joined
  // by "ถึง"); the picker itself keeps working on ISO dates, and the server reads both.
  function toBE(text) {
    return text.replace(/(\d{4})-(\d{2})-(\d{2})/g, function (m, year, month, day) {
      return day + "/" + month + "/" + (parseInt(year, 10) + 543);
    }).replace(" to ", " ถึง ");
  }
  function toISO(text) {
    return text.replace(/(\d{1,2})\/(\d{1,2})\/(\d{4})/g, function (m, day, month, year) {
      var y = parseInt(year, 10);
      return (y >= 2400 ? y - 543 : y) + "-" + ("0" + month).slice(-2) + "-" + ("0" + day).slice(-2);
    }).replace(" ถึง ", " to ");
  }
  function inISO(element, work) {
    var shown = element.val();
    element.val(toISO(shown || ""));
    try { return work(); } finally { element.val(toBE(element.val() || "")); }
  }
  function buddhistEra(picker) {
    var probe = picker.call($("<input>"), {}).data("daterangepicker");
    if (!probe) { return; }
    var prototype = Object.getPrototypeOf(probe), dropdowns = prototype.renderDropdowns;
    prototype.renderDropdowns = function () {
      return dropdowns.apply(this, arguments).replace(/>(\d{4})<\/option>/g, function (m, year) {
        return ">" + (parseInt(year, 10) + 543) + "</option>";
      });
    };
    var write = prototype.updateInputText, read = prototype.updateFromControl;
    prototype.updateInputText = function () {
      write.apply(this, arguments);
      if (this.element.is("input")) { this.element.val(toBE(this.element.val() || "")); }
    };
    if (read) {
      prototype.updateFromControl = function () {
        var self = this, args = arguments;
        return inISO(this.element, function () { return read.apply(self, args); });
      };
    }
    probe.remove();
  }
  var thaiPicker;
  Object.defineProperty($.fn, "daterangepicker", {
    configurable: true,
    get: function () { return thaiPicker; },
    set: function (picker) {
      buddhistEra(picker);
      thaiPicker = function (options, callback) {
        var inputs = this, settings = $.extend(true, {}, options || {}, { locale: thai });
        return inISO(inputs, function () { return picker.call(inputs, settings, callback); });
      };
    }
  });
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
