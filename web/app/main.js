// SPDX-License-Identifier: Apache-2.0
// The placeholder page: sign in through /json/session, say who is signed in, sign out. The
// dashboard proper replaces this file; leaflet is imported so that the bundle's size is real.
import L from "leaflet";

const $ = (id) => document.getElementById(id);
let csrf = "";

function show(session) {
  $("login").hidden = !!session;
  $("signed-in").hidden = !session;
  if (session) {
    $("who").textContent = session.user;
    csrf = session.csrf;
  }
}

async function current() {
  const r = await fetch("/json/session", { credentials: "same-origin" });
  show(r.ok ? await r.json() : null);
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await fetch("/json/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: $("login-user").value, password: $("login-password").value }),
  });
  const body = await r.json().catch(() => ({}));
  $("login-error").textContent = r.ok ? "" : body.error || String(r.status);
  show(r.ok ? body : null);
});

$("logout").addEventListener("click", async () => {
  await fetch("/json/session", { method: "DELETE", headers: { "X-CSRF-Token": csrf } });
  show(null);
});

L.map($("map"), { attributionControl: false }).setView([34.4, 41.0], 6);
current();
