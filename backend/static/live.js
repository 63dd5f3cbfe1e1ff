/* みまもり: keeps a live page (the board, a campaign's progress) current without a
   reload. Every data-live seconds it fetches the same address and swaps in the new
   <main>, keeping the scroll position. It waits while someone is typing in a form,
   while the tab is hidden, and while the pause button is pressed (WCAG 2.2.2). The
   page's data-since goes with each fetch, so "what changed since you last looked"
   keeps counting from the officer's own visit, not from the last refresh. */
(function () {
  "use strict";
  var main = document.getElementById("main");
  var first = main && main.querySelector("[data-live]");
  if (!first) { return; }
  var seconds = Math.max(5, Number(first.getAttribute("data-live")) || 30);
  var paused = false;

  function bind() {
    var toggle = document.getElementById("live-toggle");
    if (!toggle) { return; }
    toggle.setAttribute("aria-pressed", paused ? "true" : "false");
    toggle.textContent = paused ? "自動更新を再開する" : "自動更新を止める";
    toggle.onclick = function () { paused = !paused; bind(); };
  }

  function typing() {
    var a = document.activeElement;
    return !!(a && a.closest && a.closest("form") && a.matches("input, select, textarea"));
  }

  function refresh() {
    if (paused || document.hidden || typing()) { return; }
    var headers = { "X-Mimamori-Live": "1" };
    var live = main.querySelector("[data-since]");
    if (live) { headers["X-Mimamori-Since"] = live.getAttribute("data-since"); }
    fetch(location.href, { headers: headers, credentials: "same-origin", cache: "no-store", redirect: "manual" })
      .then(function (r) {
        // The session ended: load the page for real, which leads to the login form,
        // rather than keep showing a board that no longer changes.
        if (r.type === "opaqueredirect") { location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null || paused || typing()) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (!fresh) { return; }
        var y = window.scrollY;
        main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes));
        window.scrollTo(0, y);
        bind();
      })
      .catch(function () { /* the office is unreachable: keep what is shown */ });
  }

  bind();
  window.setInterval(refresh, seconds * 1000);
})();
