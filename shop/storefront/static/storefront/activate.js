// /activate/{uid}/{token}: the link from the activation e-mail (SPEC §5).

import { api, errorText, takeLink } from "./api.js";

const link = takeLink("/activate/");
const message = document.getElementById("activate-message");
const next = document.getElementById("activate-next");
const resend = document.getElementById("resend-form");

async function activate() {
  if (!link.token) {
    // reloaded after the token left the address bar, or opened without one
    message.textContent = "Open the link from your activation e-mail again, or ask for a new one.";
    resend.hidden = false;
    document.querySelector("#email").focus();
    return;
  }
  const answer = await api("/auth/users/activation/", {
    method: "POST",
    body: { uid: link.uid, token: link.token },
    auth: false,
  });
  if (answer.status === 204) {
    message.textContent = "Your account is active. You can log in now.";
    next.hidden = false;
  } else if (answer.status === 403) {
    // Djoser answers 403 ("stale token") when the account is active already.
    message.textContent = "This account is active already. Log in with your email and password.";
    next.hidden = false;
  } else {
    message.textContent = `This activation link does not work (${errorText(answer.data)}). It may be incomplete or old.`;
    resend.hidden = false;
  }
  document.querySelector(next.hidden ? "#email" : "#activate-next a").focus();
}

resend.addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = document.getElementById("email").value.trim();
  if (!email) {
    message.textContent = "Enter your email first.";
    return;
  }
  const answer = await api("/auth/users/resend_activation/", { method: "POST", body: { email }, auth: false });
  message.textContent = answer.ok
    ? `If ${email} has an account that still needs activating, a new link is on its way.`
    : errorText(answer.data);
});

activate();
