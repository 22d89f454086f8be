/* Starts the rasa-webchat 1.0.1 widget (window.WebChat, loaded from /static/rasa-webchat/index.js).
 * Settings come from data-* attributes on #webchat, which the server fills in (HTML-escaped),
 * so no server value is ever pasted into JavaScript source. */
(function () {
  "use strict";

  var host = document.getElementById("webchat");
  if (!host || !window.WebChat || typeof window.WebChat.default !== "function") {
    // The page still works without the widget: phone and email are shown everywhere.
    if (host) host.setAttribute("data-state", "unavailable");
    return;
  }

  var socketUrl = host.getAttribute("data-socket-url") || window.location.origin;

  // rasa-webchat 1.0.1: WebChat.default(props, element). With element null it makes its own
  // <div id="rasaWebchatPro">; we render into #webchat instead. There is no "selector" prop.
  window.WebChat.default(
    {
      initPayload: "/greet",
      customData: { language: "en" }, // the Rasa socketio channel reads it as metadata (metadata_key)
      socketUrl: socketUrl,
      socketPath: "/socket.io/",
      title: host.getAttribute("data-title") || "Clinic assistant",
      subtitle: host.getAttribute("data-subtitle") || "",
      inputTextFieldHint: "Type your question…",
      connectingText: "Connecting…",
      params: { storage: "session" }, // conversation survives a reload, ends with the tab
      showMessageDate: false,
      showFullScreenButton: false,
      embedded: false, // floating launcher, bottom right
      hideWhenNotConnected: true,
      mainColor: "#0f6e6e",
      userBackgroundColor: "#0f6e6e",
      userTextColor: "#ffffff",
      // A short pause before each bot message feels natural without making people wait.
      customMessageDelay: function (message) {
        var delay = (message || "").length * 12;
        return Math.max(300, Math.min(delay, 1200));
      }
    },
    host
  );

  // "Ask a question or book" in the hero opens the widget by pressing its own launcher.
  var opener = document.getElementById("open-chat");
  if (opener) {
    opener.addEventListener("click", function () {
      var launcher = document.querySelector(".rw-launcher");
      var open = document.querySelector(".rw-conversation-container");
      if (launcher && !open) {
        launcher.click();
      } else if (!launcher) {
        opener.textContent = "Chat is offline, please call us";
      }
      var input = document.querySelector(".rw-new-message");
      if (input) input.focus();
    });
  }
})();
