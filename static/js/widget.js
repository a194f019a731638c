/* The widget's behaviour beyond htmx: iframe sizing, visit links, copy
   buttons, and the game animations that reveal an outcome the server has
   already drawn. No inline handlers: the page's CSP allows no eval. */
(function () {
  "use strict";
  var SPIN_MS = 3200;

  function reportHeight() {
    if (window.parent === window) { return; }
    window.parent.postMessage({type: "questkit:resize", height: document.documentElement.scrollHeight}, "*");
  }

  // A play's answer carries the new balance, activity and leaderboard out of
  // band; shown at once they would give the outcome away before the wheel
  // stops. They are held while the game animates and swapped in when it lands.
  var holding = false;
  var held = [];

  function release() {
    holding = false;
    var swaps = held;
    held = [];
    swaps.forEach(function (s) {
      if (document.body.contains(s.target)) { htmx.swap(s.target, s.html, {swapStyle: "outerHTML"}); }
    });
  }

  document.addEventListener("htmx:beforeSwap", function (e) {
    // detail.elt is the swap target here; the element that asked is requestConfig.elt.
    var asker = e.detail.requestConfig && e.detail.requestConfig.elt;
    var game = asker && asker.closest && asker.closest(".qk-game");
    holding = Boolean(game) && e.detail.xhr && e.detail.xhr.status === 200;
  });
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    if (!holding || !e.detail.fragment || !e.detail.fragment.firstElementChild) { return; }
    held.push({target: e.detail.target, html: e.detail.fragment.firstElementChild.outerHTML});
    e.detail.shouldSwap = false;
  });
  document.addEventListener("htmx:afterSettle", function () {
    // Nothing left to animate (no result, or an error): show what was held.
    if (holding && !document.querySelector("svg.qk-wheel[data-land]:not([data-landed]), .qk-reels.qk-spin")) {
      release();
    }
  });

  function announce(article) {
    release();
    var result = article.querySelector(".qk-result[data-text]");
    if (result) { result.textContent = result.getAttribute("data-text"); }
    article.classList.add("qk-revealed");
    reportHeight();
  }

  function animateWheel(svg) {
    var n = parseInt(svg.getAttribute("data-segments"), 10);
    var land = parseInt(svg.getAttribute("data-land"), 10);
    var article = svg.closest(".qk-game");
    var target = 5 * 360 - land * (360 / n);
    var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    if (reduce) {
      // data-landed marks a wheel at rest on its outcome; the reduced-motion
      // path (no animation) never set it, so it never said it had landed.
      svg.style.transform = "rotate(" + target + "deg)";
      announce(article);
      svg.setAttribute("data-landed", String(land));
      return;
    }
    svg.style.transform = "rotate(0deg)";
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        svg.style.transition = "transform " + SPIN_MS + "ms cubic-bezier(0.15, 0.85, 0.25, 1)";
        svg.style.transform = "rotate(" + target + "deg)";
      });
    });
    var done = false;
    function finish() { if (!done) { done = true; announce(article); svg.setAttribute("data-landed", String(land)); } }
    svg.addEventListener("transitionend", finish, {once: true});
    setTimeout(finish, SPIN_MS + 400);  // in case no transition runs (hidden tab)
  }

  function animateReels(reels) {
    var article = reels.closest(".qk-game");
    var spans = reels.querySelectorAll(".qk-reel");
    spans.forEach(function (span, i) {
      setTimeout(function () {
        span.textContent = span.getAttribute("data-symbol");
        span.classList.add("qk-reel-stop");
        if (i === spans.length - 1) { reels.classList.remove("qk-spin"); announce(article); }
      }, 600 + i * 450);
    });
  }

  function start(root) {
    root.querySelectorAll("svg.qk-wheel[data-land]").forEach(animateWheel);
    root.querySelectorAll(".qk-reels.qk-spin").forEach(animateReels);
    root.querySelectorAll(".qk-box-open").forEach(function (box) { announce(box.closest(".qk-game")); });
    reportHeight();
  }

  // A logo that fails to load gives way to the campaign's name (rendered hidden beside it).
  function logoFailed(img) {
    img.hidden = true;
    var name = img.parentNode && img.parentNode.querySelector(".qk-brand-name");
    if (name) { name.hidden = false; }
    reportHeight();
  }
  function checkLogos(root) {
    var logos = root.matches && root.matches("img.qk-logo") ? [root] : root.querySelectorAll("img.qk-logo");
    Array.prototype.forEach.call(logos, function (img) {
      // Failed before this script listened: complete with nothing to show, and
      // decode() confirms it (an SVG without a size also has naturalWidth 0).
      if (img.complete && img.naturalWidth === 0) {
        if (img.decode) { img.decode().catch(function () { logoFailed(img); }); } else { logoFailed(img); }
      }
    });
  }
  // error does not bubble: listen in the capture phase, for logos swapped in later too.
  document.addEventListener("error", function (e) {
    if (e.target && e.target.matches && e.target.matches("img.qk-logo")) { logoFailed(e.target); }
  }, true);
  checkLogos(document);

  document.addEventListener("click", function (e) {
    var visit = e.target.closest && e.target.closest("a.qk-visit");
    if (visit) {
      // The link opens in a new tab as usual; the widget records the visit.
      htmx.trigger(visit, "qk:visit");
      return;
    }
    var copy = e.target.closest && e.target.closest("[data-copy]");
    if (copy) {
      var input = document.querySelector(copy.getAttribute("data-copy"));
      var text = input ? input.value : "";
      var shown = function () {
        copy.textContent = "Copied!";
        setTimeout(function () { copy.textContent = "Copy"; }, 2000);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(shown, function () { input.select(); document.execCommand("copy"); shown(); });
      } else if (input) {
        input.select(); document.execCommand("copy"); shown();
      }
    }
  });

  // A play in flight: its buttons stay disabled until the answer is in.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var game = e.target.closest && e.target.closest(".qk-game");
    if (game) { game.querySelectorAll("button").forEach(function (b) { b.disabled = true; }); }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var game = e.target.closest && e.target.closest(".qk-game");
    if (game && document.body.contains(game) && !e.detail.successful) {
      game.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    }
  });
  document.addEventListener("htmx:load", function (e) {
    start(e.detail.elt);
    checkLogos(e.detail.elt);
    // htmx processed the whole page: its hx- links now work (widget.css waits for this).
    if (e.detail.elt === document.body) { document.documentElement.setAttribute("data-qk-ready", ""); }
  });
  document.addEventListener("htmx:oobAfterSwap", reportHeight);
  window.addEventListener("load", reportHeight);
  if (window.ResizeObserver) { new ResizeObserver(reportHeight).observe(document.body); }

  // Toasts fade after a while; the aria-live region keeps its last words until then.
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "qk-toasts") {
      var region = e.detail.target;
      clearTimeout(region._qkTimer);
      region._qkTimer = setTimeout(function () { region.innerHTML = ""; reportHeight(); }, 6000);
    }
  });
})();
