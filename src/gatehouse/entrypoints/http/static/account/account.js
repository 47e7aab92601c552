// Gatehouse account pages (§10): send the link's one-time token to the API and say what happened.
// Served from Gatehouse itself under a CSP without 'unsafe-inline'; all text goes into the page as textContent.
(function () {
  "use strict";

  var BUSY = "Too many attempts, or the service is busy. Try again in a moment.";
  var UNREACHABLE = "The service could not be reached. Check your connection and try again.";
  var INCOMPLETE =
    "This link is incomplete: it has no token. Open the link from the email again, " +
    "or copy the whole address into your browser.";
  var MISMATCH = "The two passwords differ. Type the same new password in both fields.";
  var ACTIONS = {
    "verify-email": {
      ok: "Your email address is confirmed. You can close this page.",
      invalid: "This link is invalid or has expired. Request a new verification email.",
      conflict: "Your email address is already confirmed. You can close this page.",
    },
    "reset-password": {
      ok: "Your password has been changed. You can now log in with it.",
      invalid: "This reset link is invalid, already used or expired. Request a new one.",
      rejected: "The new password was not accepted:",
    },
  };

  var form = document.getElementById("account-form");
  var status = document.getElementById("status");
  if (!form || !status) {
    return;
  }
  var fieldset = form.querySelector("fieldset");
  var action = form.getAttribute("data-action");
  var texts = ACTIONS[action];
  var isReset = action === "reset-password";
  var endpoint = form.getAttribute("data-endpoint");
  var token = takeToken();
  var busy = false;

  // Read the token once, then drop it from the address bar (and so from history and bookmarks).
  function takeToken() {
    var params = new URLSearchParams(window.location.search);
    var value = params.get("token");
    if (params.has("token")) {
      params.delete("token");
      var rest = params.toString();
      var clean = window.location.pathname + (rest ? "?" + rest : "") + window.location.hash;
      window.history.replaceState(window.history.state, "", clean);
    }
    return value ? value.trim() : "";
  }

  function show(kind, message, reasons) {
    status.setAttribute("data-kind", kind);
    status.replaceChildren();
    var line = document.createElement("p");
    line.textContent = message;
    status.appendChild(line);
    if (reasons && reasons.length) {
      var list = document.createElement("ul");
      reasons.forEach(function (reason) {
        var item = document.createElement("li");
        item.textContent = reason;
        list.appendChild(item);
      });
      status.appendChild(list);
    }
  }

  function setEnabled(enabled) {
    fieldset.disabled = !enabled;
    form.setAttribute("aria-busy", String(busy));
  }

  function field(id) {
    return document.getElementById(id);
  }

  function payload() {
    if (isReset) {
      return { token: token, new_password: field("new-password").value };
    }
    return { token: token };
  }

  function readEnvelope(response) {
    return response
      .json()
      .catch(function () {
        return {};
      })
      .then(function (body) {
        return body && typeof body === "object" ? body : {};
      });
  }

  function generic(response, body) {
    var id = body.request_id || response.headers.get("X-Request-ID") || "unknown";
    return (
      "Something went wrong (HTTP " + response.status + "). Try again later; if it keeps failing, " +
      "contact support and quote request id " + id + "."
    );
  }

  // Says what happened; returns "done" (the link is used up: the form stays disabled), "retry"
  // (the same request may succeed later) or "fix" (the new password must change first).
  function answer(response, body) {
    if (response.status === 204) {
      show("ok", texts.ok);
      return "done";
    }
    if (response.status === 400) {
      show("error", texts.invalid);
      return "done";
    }
    if (response.status === 409 && texts.conflict) {
      show("ok", texts.conflict);
      return "done";
    }
    if (response.status === 422 && texts.rejected) {
      var details = Array.isArray(body.details) ? body.details : [];
      var reasons = details
        .map(function (detail) {
          return detail && typeof detail.message === "string" ? detail.message : "";
        })
        .filter(Boolean);
      show("error", texts.rejected, reasons.length ? reasons : [body.message || "It breaks the password rules."]);
      return "fix";
    }
    if (response.status === 429 || response.status === 503) {
      show("error", BUSY);
      return "retry";
    }
    show("error", generic(response, body));
    return "retry";
  }

  function submit(event) {
    event.preventDefault();
    if (busy || !token) {
      return;
    }
    if (isReset && field("new-password").value !== field("repeat-password").value) {
      show("error", MISMATCH);
      field("repeat-password").focus();
      return;
    }
    busy = true;
    setEnabled(false);
    show("pending", "Sending…");
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload()),
      credentials: "same-origin",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    })
      .then(function (response) {
        return readEnvelope(response).then(function (body) {
          return answer(response, body);
        });
      })
      .catch(function () {
        show("error", UNREACHABLE);
        return "retry";
      })
      .then(function (outcome) {
        busy = false;
        setEnabled(outcome !== "done");
        if (outcome === "done" && isReset) {
          field("new-password").value = "";
          field("repeat-password").value = "";
        }
        if (outcome === "fix") {
          field("new-password").focus();
        }
      });
  }

  form.addEventListener("submit", submit);
  if (!token) {
    show("error", INCOMPLETE);
    setEnabled(false);
  }
})();
