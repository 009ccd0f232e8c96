// The mail viewer: the `file://` outbox, newest first. Each message's HTML is shown in a
// sandboxed frame (no scripts), its inline QR code already turned into a data: URL.
import { Problem, el, get, requireSignIn, when } from "./api.js";
import { sentence } from "./errors.js";

const $ = (id) => document.getElementById(id);
let messages = [];
let shown = null;

function draw() {
  $("empty").hidden = messages.length > 0;
  $("messages").replaceChildren(
    ...messages.map((message) =>
      el(
        "li",
        {},
        el(
          "button",
          { "aria-current": String(message.id === shown), onclick: () => open(message.id) },
          el("span", { class: "subject", text: message.subject }),
          el("span", { class: "muted", text: `To ${message.to} · ${when(message.date)}` }),
        ),
      ),
    ),
  );
}

// Only web links are offered outside the sandbox.
function webLinks(html) {
  const document_ = new DOMParser().parseFromString(html, "text/html"); // inert: nothing runs or loads
  const hrefs = [...document_.querySelectorAll("a[href]")].map((a) => a.getAttribute("href"));
  return [...new Set(hrefs)].filter((href) => /^https?:\/\//i.test(href));
}

function open(id) {
  const message = messages.find((m) => m.id === id);
  if (!message) return;
  shown = id;
  draw();
  $("subject").textContent = message.subject;
  $("headers").replaceChildren(
    ...[["From", message.sender], ["To", message.to], ["Date", when(message.date)]].flatMap(([k, v]) => [
      el("dt", { text: k }),
      el("dd", { text: v }),
    ]),
  );
  // Links open in a new tab: the frame itself never navigates.
  const html = message.html || `<pre>${escapeText(message.text || "")}</pre>`;
  $("body").srcdoc = `<base target="_blank">${html}`;
  $("links").replaceChildren(
    ...webLinks(html).map((href) => el("li", {}, el("a", { href, target: "_blank", rel: "noopener noreferrer", text: href }))),
  );
  $("reader").hidden = false;
}

function escapeText(text) {
  const holder = document.createElement("div");
  holder.textContent = text;
  return holder.innerHTML;
}

async function refresh() {
  const list = await get("/demo/mail/messages");
  $("folder").textContent = list.folder ? `Folder ${list.folder}` : "MAIL_URL is not a file:// folder";
  const before = messages.map((m) => m.id).join();
  messages = list.items;
  if (messages.map((m) => m.id).join() !== before) {
    draw();
    if (!shown && messages.length) open(messages[0].id);
  }
}

async function start() {
  if (!requireSignIn($("signin"))) return;
  $("dashboard-link").href = `/demo/${location.hash}`;
  $("refresh").addEventListener("click", () => refresh().catch(fail));
  await refresh();
  setInterval(() => refresh().catch(fail), 3000);
}

function fail(error) {
  $("signin").textContent = sentence(error instanceof Problem ? error : null);
  $("signin").hidden = false;
}

start().catch(fail);
