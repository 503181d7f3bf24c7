// The pages that e-mailed links open (api/routers/pages.py). Loaded with `defer`, so it
// runs once the page is parsed. Its first act takes the one-time token out of the
// address bar; then it POSTs the token, in a JSON body, to the page's API endpoint.
"use strict";

const token = new URLSearchParams(window.location.search).get("token");
window.history.replaceState(null, "", window.location.pathname);

const { endpoint, success } = document.body.dataset;
const result = document.getElementById("result");
const form = document.getElementById("new-password-form");

const USED_OR_EXPIRED =
  "This link has already been used or has expired. Ask for a new one and open the newest e-mail.";

function show(message, outcome) {
  result.textContent = message;
  result.dataset.outcome = outcome;
}

// The reason a 422 gives: FastAPI's list of {loc, msg}, or a plain sentence.
function reasonOf(body) {
  if (body && Array.isArray(body.detail)) {
    return body.detail.map((item) => item.msg).join(" ");
  }
  return body && typeof body.detail === "string" ? body.detail : "";
}

async function post(payload) {
  try {
    return await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
      credentials: "same-origin",
    });
  } catch {
    return null;
  }
}

async function failure(response) {
  if (response === null) {
    return "The service could not be reached. Check your connection and try again.";
  }
  if (response.status === 400) {
    return USED_OR_EXPIRED;
  }
  if (response.status === 429) {
    return "Too many attempts. Wait a few minutes and try again.";
  }
  const body = await response.json().catch(() => null);
  const reason = reasonOf(body);
  if (response.status === 422 && reason) {
    return reason;
  }
  return `Something went wrong (HTTP ${response.status}). Try again later.`;
}

async function confirmToken() {
  show("Checking the link…", "pending");
  const response = await post({ token });
  if (response !== null && response.ok) {
    show(success, "success");
  } else {
    show(await failure(response), "error");
  }
}

async function resetPassword(event) {
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  show("Saving your new password…", "pending");
  const response = await post({ token, new_password: form.elements.new_password.value });
  if (response !== null && response.ok) {
    form.hidden = true;
    show(success, "success");
    return;
  }
  button.disabled = false;
  const message = await failure(response);
  if (response !== null && response.status === 400) {
    form.hidden = true;
  }
  show(message, "error");
}

if (!token) {
  show("This link is incomplete: open the whole link from the e-mail.", "error");
} else if (form) {
  form.hidden = false;
  form.addEventListener("submit", resetPassword);
  show("Type your new password.", "ready");
} else {
  confirmToken();
}
