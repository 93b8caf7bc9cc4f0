/* 保学：页面上的全部脚本。内容安全策略（CSP）不允许页面内联脚本和 onclick= 之类的属性，
   所以模板只写 data- 属性，这里统一处理。
   All of the pages' JavaScript: the CSP forbids inline scripts and on...= handlers, so templates
   carry data- attributes and this file (loaded with defer by base.html) gives them behaviour. */
(function () {
  "use strict";

  // <button data-print>: print the page.
  document.addEventListener("click", function (e) {
    var el = e.target.closest && e.target.closest("[data-print]");
    if (el) { e.preventDefault(); window.print(); }
  });

  // <select data-autosubmit>: submit its form when the choice changes.
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
  });

  // <form data-confirm="…？">: ask before submitting.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) e.preventDefault();
  });

  // Roll call: the live count of absent / late pupils beside the submit button.
  function rollCall(form, out) {
    var absent = ["truant", "unknown", "sick", "personal"];
    function count() {
      var a = 0, l = 0;
      form.querySelectorAll("input[type=radio]:checked").forEach(function (r) {
        if (absent.indexOf(r.value) >= 0) a++; else if (r.value !== "present") l++;
      });
      out.textContent = "缺勤 " + a + " 人" + (l ? "，迟到/早退 " + l + " 人" : "");
    }
    form.addEventListener("change", count);
    count();
  }

  // On-site check of a class: the live counts, and the reason box's hint follows the choice.
  function onsiteCheck(form, out) {
    var hint = {absent: "未到校原因（不清楚可不填）", not_in_class: "去向：在哪个班或在哪里（必填）"};
    function update() {
      var a = 0, n = 0;
      form.querySelectorAll("input[type=radio]:checked").forEach(function (r) {
        if (r.value === "absent") a++; else if (r.value === "not_in_class") n++;
        var box = r.closest(".rc-opts").querySelector(".rc-reason");
        if (hint[r.value]) box.placeholder = hint[r.value];
      });
      out.textContent = "未到校 " + a + " 人" + (n ? "\n不在本班 " + n + " 人" : "");
    }
    form.addEventListener("change", update);
    update();
  }

  function start() {
    var form = document.getElementById("rollcall"), out = document.getElementById("rc-count");
    if (form && out) rollCall(form, out);
    form = document.getElementById("onsite"); out = document.getElementById("os-count");
    if (form && out) onsiteCheck(form, out);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
