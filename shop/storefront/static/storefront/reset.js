// /password-reset/{uid}/{token}: the link from the password-reset e-mail (SPEC §5).

import { api, errorText, takeLink } from "./api.js";

const link = takeLink("/password-reset/");
const form = document.getElementById("reset-form");
const message = document.getElementById("reset-message");

if (!link.token) {
  // reloaded after the token left the address bar, or opened without one
  form.hidden = true;
  message.textContent =
    "Open the link from your e-mail again to choose a new password, or ask for a new link with Forgot password? on the shop's log-in form.";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = document.getElementById("new-password").value;
  const again = document.getElementById("re-new-password").value;
  if (!password) {
    message.textContent = "Enter a new password.";
    return;
  }
  if (password !== again) {
    message.textContent = "The two passwords differ; type the same one twice.";
    return;
  }
  const answer = await api("/auth/users/reset_password_confirm/", {
    method: "POST",
    body: { uid: link.uid, token: link.token, new_password: password, re_new_password: again },
    auth: false,
  });
  if (answer.ok) {
    form.hidden = true;
    message.textContent = "Your password is changed. Log in with the new one.";
    document.getElementById("reset-next").hidden = false;
    document.querySelector("#reset-next a").focus();
  } else {
    message.textContent = errorText(answer.data);
  }
});
