/* Starts the rasa-webchat 1.0.1 widget (window.WebChat, loaded from /static/rasa-webchat/index.js)
 * and makes it usable with a keyboard and a screen reader.
 *
 * Settings come from data-* attributes on #webchat, which the server fills in (HTML-escaped),
 * so no server value is ever pasted into JavaScript source.
 *
 * Accessibility (WCAG 2.1 AA, checked with axe-core by tests/web/test_widget_browser.py): the
 * widget's own markup has unnamed buttons, a message list that is neither announced nor
 * reachable by keyboard, and quick-reply "buttons" that are plain divs. Rather than patch the
 * bundle, `enhance` adds names, roles and keyboard access to whatever the widget has rendered,
 * each time it renders (a MutationObserver); focus is handled through the widget's own
 * onWidgetEvent callbacks. Looks (contrast, focus rings, the urgent reply, reduced motion) are
 * in widget.css. */
(function () {
  "use strict";

  var host = document.getElementById("webchat");
  if (!host || !window.WebChat || typeof window.WebChat.default !== "function") {
    // The page still works without the widget: phone and email are shown everywhere.
    if (host) host.setAttribute("data-state", "unavailable");
    return;
  }

  var socketUrl = host.getAttribute("data-socket-url") || window.location.origin;
  var LAUNCHER = ".rw-launcher";
  var INPUT = ".rw-new-message";
  var REPLY = ".rw-reply:not(a)"; // quick replies are divs; link replies are real links

  function setAttributes(element, attributes) {
    Object.keys(attributes).forEach(function (name) {
      if (element.getAttribute(name) !== attributes[name]) {
        element.setAttribute(name, attributes[name]);
      }
    });
  }

  function each(selector, attributes) {
    host.querySelectorAll(selector).forEach(function (element) {
      setAttributes(element, attributes);
    });
  }

  function isOpen() {
    return Boolean(host.querySelector(".rw-conversation-container"));
  }

  /* Names, roles and keyboard access for what the widget has rendered so far. */
  function enhance() {
    each(LAUNCHER, {
      "aria-label": "Chat with our virtual assistant",
      "aria-expanded": isOpen() ? "true" : "false"
    });
    each(LAUNCHER + " img, .rw-close-button img", { alt: "" });
    each(".rw-close-button", { "aria-label": "Close the chat", type: "button" });
    each(".rw-send", { "aria-label": "Send" });
    each(".rw-send svg", { "aria-hidden": "true", focusable: "false" });
    each(INPUT, { "aria-label": "Your message" });
    // The widget's title is an h4 under the page's h2 sections: give it its real level.
    each(".rw-header .rw-title", { "aria-level": "2" });
    // The conversation: announced as it grows (a log is polite), and scrollable by keyboard.
    each(".rw-messages-container", {
      role: "log",
      "aria-live": "polite",
      "aria-label": "Conversation",
      tabindex: "0"
    });
    each(".rw-replies", { role: "group", "aria-label": "Choose an answer" });
    each(REPLY, { role: "button", tabindex: "0" });
    // A phone number opens the phone app, not an empty new tab.
    host.querySelectorAll('a[href^="tel:"][target]').forEach(function (link) {
      link.removeAttribute("target");
    });
  }

  function focusSoon(selector) {
    window.setTimeout(function () {
      var element = host.querySelector(selector);
      if (element) element.focus();
    }, 0);
  }

  // Quick replies answer to Enter and Space, as buttons do.
  host.addEventListener("keydown", function (event) {
    var reply = event.target.closest && event.target.closest(REPLY);
    if (reply && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      reply.click();
      return;
    }
    // Escape closes the chat from anywhere inside it; focus goes back to the launcher.
    if (event.key === "Escape" && isOpen()) {
      var close = host.querySelector(".rw-close-button") || host.querySelector(LAUNCHER);
      if (close) {
        event.preventDefault();
        close.click();
      }
    }
  });

  // The chosen reply's buttons disappear: carry on typing in the message box, not on <body>.
  host.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(REPLY)) focusSoon(INPUT);
  });

  new MutationObserver(enhance).observe(host, { childList: true, subtree: true });

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
      // Focus: into the message box when the chat opens, back to the launcher when it closes.
      onWidgetEvent: {
        onChatOpen: function () {
          focusSoon(INPUT);
        },
        onChatClose: function () {
          focusSoon(LAUNCHER);
        }
      },
      // A short pause before each bot message feels natural without making people wait.
      customMessageDelay: function (message) {
        var delay = (message || "").length * 12;
        return Math.max(300, Math.min(delay, 1200));
      }
    },
    host
  );
  enhance();

  // "Ask a question or book" in the hero opens the widget by pressing its own launcher.
  var opener = document.getElementById("open-chat");
  if (opener) {
    opener.addEventListener("click", function () {
      var launcher = host.querySelector(LAUNCHER);
      if (launcher && !isOpen()) {
        launcher.click();
      } else if (!launcher) {
        opener.textContent = "Chat is offline, please call us";
      }
      focusSoon(INPUT);
    });
  }
})();
