// The labelling page's keyboard: every answer, submit, skip and discard without the mouse.
// A static file because the CSP forbids inline scripts. htmx swaps #task for the next item;
// this script then starts again on the new form (current question, duration timer).
(function () {
  "use strict";
  var current = 0;
  var started = Date.now();
  var PREFERENCE = { a: 0, b: 1, t: 2 };

  function questions() {
    return Array.prototype.slice.call(document.querySelectorAll("#task fieldset.question"));
  }

  function show(index) {
    var all = questions();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (q, i) {
      q.classList.toggle("current", i === current);
      if (i === current) q.setAttribute("aria-current", "step");
      else q.removeAttribute("aria-current");
    });
    all[current].scrollIntoView({ block: "nearest" });
  }

  function answered(q) {
    return q.querySelector("input:checked") !== null;
  }

  function nextKeyed(from) {
    var all = questions();
    for (var i = from + 1; i < all.length; i++) {
      if (all[i].hasAttribute("data-keyed") && !answered(all[i])) return i;
    }
    return from;
  }

  function start() {
    started = Date.now();
    var all = questions();
    var first = all.findIndex(function (q) { return q.hasAttribute("data-keyed") && !answered(q); });
    show(first < 0 ? 0 : first);
  }

  function pick(n) {
    var q = questions()[current];
    if (!q) return;
    var inputs = q.querySelectorAll("input[type=radio], input[type=checkbox]");
    if (n >= inputs.length) return;
    var input = inputs[n];
    if (input.type === "checkbox") {
      input.checked = !input.checked;  // multi-answer questions: keys toggle, stay here
    } else {
      input.checked = true;
      show(nextKeyed(current));
    }
  }

  function press(action) {
    var button = document.querySelector('#task button[data-action="' + action + '"]');
    if (button) button.click();  // a real click: htmx sends the button's name and value
  }

  function edit() {
    var q = questions()[current];
    var field = q && q.querySelector("textarea, input[type=text]");
    if (field) field.focus();
  }

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable ||
      (tag === "INPUT" && (el.type === "text" || el.type === "search"));
  }

  function inField(e) {
    if (e.key === "Escape") {
      e.target.blur();
      e.preventDefault();
    } else if (e.key === "Enter" && (e.ctrlKey || e.target.tagName === "INPUT")) {
      e.preventDefault();
      press("submit");
    }
  }

  document.addEventListener("keydown", function (e) {
    if (!document.getElementById("task") || e.altKey || e.metaKey) return;
    if (typing(e.target)) return inField(e);
    if (e.ctrlKey && e.key !== "Enter") return;
    var key = e.key;
    var q = questions()[current];
    var handled = true;
    if (/^[1-9]$/.test(key)) pick(Number(key) - 1);
    else if (q && q.dataset.type === "preference" && key in PREFERENCE) pick(PREFERENCE[key]);
    else if (key === "Enter") press("submit");
    else if (key === "s") press("skip");
    else if (key === "d") press("discard");
    else if (key === "ArrowDown" || key === "j") show(current + 1);
    else if (key === "ArrowUp" || key === "k") show(current - 1);
    else if (key === "e") edit();
    else handled = false;
    if (handled) e.preventDefault();
  });

  // Time spent on the item goes with the answers (stored with each label).
  document.addEventListener("submit", function (e) {
    var field = e.target.querySelector && e.target.querySelector("input[name=duration_ms]");
    if (field) field.value = String(Date.now() - started);
  }, true);

  // With an outerHTML swap the event's target may be the replaced element: just start again.
  document.addEventListener("htmx:afterSettle", function () {
    if (document.getElementById("task")) start();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
