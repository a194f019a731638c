/* Questkit embed: <script src="https://HOST/embed.js" data-campaign="PID"
   data-user-token="TOKEN" async></script> inserts the widget in an iframe
   right after itself. The token is handed to the iframe by postMessage (to
   the widget's origin only), never in a URL; the iframe reports its height
   so it can be sized to its content. No dependencies. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var src = new URL(script.src, document.baseURI);
  var origin = src.origin;
  var base = origin + src.pathname.replace(/\/embed\.js$/, "");
  var pid = script.getAttribute("data-campaign") || "";
  var token = script.getAttribute("data-user-token") || "";
  var env = script.getAttribute("data-env") || "";
  var frame = document.createElement("iframe");
  frame.src = base + "/widget/" + encodeURIComponent(pid) + "/frame";
  frame.title = script.getAttribute("data-title") || "Rewards";
  frame.setAttribute("scrolling", "no");
  // A cross-origin iframe may use the Clipboard API only when its
  // embedder delegates it; without this the referral "Copy" button was
  // refused (permissions policy) and fell back to execCommand("copy").
  frame.setAttribute("allow", "clipboard-write");
  frame.style.cssText = "display:block;width:100%;min-height:160px;border:0;overflow:hidden;";
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (e) {
    if (e.source !== frame.contentWindow || e.origin !== origin || !e.data) { return; }
    if (e.data.type === "questkit:ready") {
      frame.contentWindow.postMessage({
        type: "questkit:token", token: token, env: env,
        page: location.origin + location.pathname
      }, origin);
    } else if (e.data.type === "questkit:resize" && typeof e.data.height === "number") {
      frame.style.height = Math.ceil(e.data.height) + "px";
    }
  });
})();
