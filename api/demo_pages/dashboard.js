// The partner dashboard: the Clients page on the public API. Lists come with an ETag and
// are asked again with If-None-Match, so a 304 leaves the page as it is; the event feed
// (long-poll) says when to ask.
import { Problem, accessToken, call, el, get, local, patch, post, requireSignIn, sleep, when } from "./api.js";
import { sentence } from "./errors.js";

const $ = (id) => document.getElementById(id);
const state = {
  partner: null,
  status: "inactive",
  search: "",
  etag: null,          // of the first page under the current tab and search
  listAsks: 0,         // first-page asks sent
  drawn: 0,            // first pages drawn
  items: [],
  next: null,
  selected: new Set(),
  open: null,          // the client whose details are shown
  openEtag: null,
  editing: false,      // the details form holds changes not saved yet
  loaded: {},          // the details as last put in the form
  qrTimer: null,
};
const base = () => `partners/${state.partner.id}`;

function notice(id, text, kind = "") {
  const node = $(id);
  node.textContent = text;
  node.className = `notice ${kind}`;
  node.hidden = !text;
}

// --- the list -------------------------------------------------------------------------

function listPath(cursor) {
  const query = new URLSearchParams({ status: state.status, limit: "50" });
  if (state.search) query.set("search", state.search);
  if (cursor) query.set("cursor", cursor);
  return `${base()}/clients?${query}`;
}

// Ask for the first page again; redraw only when it changed (200, not 304). Asks may
// overlap (a change made here, the feed, a new tab or search): only the answer to the
// latest is drawn, so an older list never lands on a newer one.
async function refreshList() {
  if (!state.partner) return; // start() asks once the partner is known
  const asked = ++state.listAsks;
  let answer;
  try {
    answer = await call("GET", listPath(), { etag: state.etag });
  } catch (error) {
    if (asked === state.listAsks) throw error;
    return;
  }
  if (asked !== state.listAsks) return;
  if (answer.status === 304) return;
  state.drawn += 1;
  state.etag = answer.etag;
  state.items = answer.body.items;
  state.next = answer.body.next_cursor;
  showCounts(answer.body.counts);
  drawList();
}

// The next page, after the rows shown; dropped if the first page was drawn again meanwhile.
async function loadMore() {
  const drawn = state.drawn;
  const cursor = state.next;
  $("more").disabled = true;
  try {
    const page = await get(listPath(cursor));
    if (drawn !== state.drawn || cursor !== state.next) return;
    state.items = state.items.concat(page.items);
    state.next = page.next_cursor;
    drawList();
  } finally {
    $("more").disabled = false;
  }
}

// The tab or the search changed: the rows shown are not what is asked for any more.
function askNewList() {
  state.etag = null;
  state.next = null;
  $("more").hidden = true;
  refreshList().catch(showListError);
}

function showCounts(counts) {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const badge = tab.querySelector(".count");
    const count = counts ? counts[tab.dataset.status] : undefined;
    badge.hidden = count === undefined;
    badge.textContent = count === undefined ? "" : String(count);
    // The tab keeps its name ("Invited"); the number is told as its description.
    if (count === undefined) tab.removeAttribute("aria-description");
    else tab.setAttribute("aria-description", `${count} ${count === 1 ? "client" : "clients"}`);
  }
}

function chipsOf(client) {
  const chips = [];
  const inv = client.invitation;
  if (client.status === "active") chips.push(["active", "Connected"]);
  if (inv && client.status !== "active") {
    if (inv.status !== "pending" || client.status === "invited") chips.push([inv.status, `Invitation ${inv.status}`]);
    if (inv.status === "pending") {
      chips.push([inv.email_status, `Email ${inv.email_status}`]);
      if (inv.opened_at) chips.push(["opened", "Opened, not confirmed"]);
    }
  }
  return chips.map(([kind, text]) => el("span", { class: `chip ${kind}`, text }));
}

function drawList() {
  const focused = document.activeElement && document.activeElement.id;
  const list = $("client-list");
  list.replaceChildren(
    ...state.items.map((client) => {
      const box = el("input", {
        type: "checkbox",
        id: `pick-${client.id}`,
        checked: state.selected.has(client.id),
        disabled: client.status === "active",
        onchange: (event) => {
          if (event.target.checked) state.selected.add(client.id);
          else state.selected.delete(client.id);
          updateInviteButton();
        },
      });
      const label = el("label", { for: box.id, class: "visually-hidden", text: client.name });
      const name = el("button", {
        class: "linklike",
        id: `open-${client.id}`,
        "aria-controls": "details",
        text: client.name,
        onclick: () => openClient(client.id),
      });
      const sub = [client.email || "no email address", client.vat_number].filter(Boolean).join(" · ");
      return el(
        "li",
        { class: client.id === state.open ? "current" : null, "data-client-id": client.id },
        el("span", {}, box, label),
        name,
        el("span", { class: "chips" }, ...chipsOf(client)),
        el("span", { class: "sub", text: sub }),
      );
    }),
  );
  $("empty").hidden = state.items.length > 0;
  $("more").hidden = !state.next;
  // Selections of clients no longer in this list do not travel with the next Invite.
  const shown = new Set(state.items.map((c) => c.id));
  for (const id of state.selected) if (!shown.has(id)) state.selected.delete(id);
  updateInviteButton();
  if (focused && $(focused)) $(focused).focus();
}

function updateInviteButton() {
  const n = state.selected.size;
  $("invite").disabled = n === 0;
  $("invite").textContent = n > 1 ? `Invite (${n})` : "Invite";
}

function selectTab(tab, focus = false) {
  for (const other of document.querySelectorAll("[role=tab]")) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
  }
  $("client-panel").setAttribute("aria-labelledby", tab.id);
  if (focus) tab.focus();
  state.status = tab.dataset.status;
  state.selected.clear();
  askNewList();
}

function showListError(error) {
  notice("list-notice", sentence(error instanceof Problem ? error : null), "error");
}

// --- inviting -------------------------------------------------------------------------

function openInviteDialog() {
  const names = state.items.filter((c) => state.selected.has(c.id)).map((c) => c.name);
  $("invite-who").textContent = `To: ${names.join(", ")}`;
  $("invite-dialog").showModal();
  $("invite-message").focus();
}

async function sendInvites(event) {
  event.preventDefault();
  const ids = [...state.selected];
  const body = { client_ids: ids, access_level: $("invite-access").value };
  const message = $("invite-message").value.trim();
  if (message) body.message = message;
  $("send-invites").disabled = true;
  try {
    const { results } = await post(`${base()}/invitations`, body);
    const names = new Map(state.items.map((c) => [c.id, c.name]));
    const failed = results.filter((r) => r.error);
    const sent = results.length - failed.length;
    const words = [`${sent} invitation${sent === 1 ? "" : "s"} sent.`];
    for (const r of failed) words.push(`${names.get(r.client_id) || r.client_id}: ${sentence({ code: r.error.code })}`);
    notice("list-notice", words.join(" "), failed.length ? "error" : "ok");
    state.selected.clear();
    $("invite-dialog").close();
    await refreshList();
  } catch (error) {
    notice("list-notice", sentence(error), "error");
    $("invite-dialog").close();
  } finally {
    $("send-invites").disabled = false;
  }
}

// --- one client -----------------------------------------------------------------------

async function openClient(id) {
  if (state.open !== id) hideQr();
  state.open = id;
  state.openEtag = null;
  notice("details-notice", "");
  for (const row of document.querySelectorAll("#client-list li")) {
    row.classList.toggle("current", row.dataset.clientId === id);
  }
  // Until this client is drawn, the actions would act on the one shown before.
  $("details").dataset.invitationId = "";
  $("details").setAttribute("aria-busy", "true");
  for (const button of $("actions").querySelectorAll("button")) button.disabled = true;
  state.editing = false;
  for (const field of $("edit-form").elements) field.disabled = true;
  $("details").hidden = false;
  await refreshClient();
  $("details-title").focus({ preventScroll: false });
}

async function refreshClient() {
  if (!state.open) return;
  let answer;
  try {
    answer = await call("GET", `${base()}/clients/${state.open}`, { etag: state.openEtag });
  } catch (error) {
    notice("details-notice", sentence(error), "error");
    return;
  }
  if (answer.status === 304) return;
  state.openEtag = answer.etag;
  drawClient(answer.body);
}

function drawClient(client) {
  const inv = client.invitation;
  $("details-title").textContent = client.name;
  $("details-title").tabIndex = -1;
  const facts = [
    ["Status", { inactive: "Inactive", invited: "Invited", active: "Connected" }[client.status]],
    ["Email", client.email || "none"],
    ["Language", client.language],
    ["VAT number", client.vat_number || "none"],
    ["Reference", client.external_ref],
    ["Connected", when(client.connected_at)],
  ];
  if (inv) {
    facts.push(["Invitation", inv.status], ["Sent to", inv.email], ["Email status", inv.email_status]);
    if (inv.email_error) facts.push(["Email error", inv.email_error]);
    facts.push(["Invited", when(inv.created_at)], ["Expires", when(inv.expires_at)]);
    facts.push(["Opened", inv.opened_at ? `${when(inv.opened_at)}${inv.status === "pending" ? " (opened but not confirmed)" : ""}` : "not yet"]);
    if (inv.message) facts.push(["Message", inv.message]);
  }
  $("facts").replaceChildren(
    ...facts.filter(([, v]) => v).flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]),
  );
  const pending = inv && inv.status === "pending";
  $("send-invite").hidden = client.status !== "inactive" || (inv && inv.status === "pending");
  $("resend").hidden = !inv || client.status === "active";
  $("revoke").hidden = !pending;
  $("show-qr").hidden = !pending;
  $("disconnect").hidden = client.status !== "active";
  $("custom-message-field").hidden = client.status === "active";
  if (!pending) hideQr();
  $("details").dataset.invitationId = inv ? inv.id : "";
  $("details").removeAttribute("aria-busy");
  for (const button of $("actions").querySelectorAll("button")) button.disabled = false;
  for (const field of $("edit-form").elements) field.disabled = false;
  if (state.editing) return; // a change arriving from elsewhere leaves what is typed alone
  const { name, email, language, vat_number, external_ref } = client;
  state.loaded = { name, email, language, vat_number, external_ref };
  $("edit-name").value = name;
  $("edit-email").value = email || "";
  $("edit-language").value = language;
  $("edit-vat").value = vat_number || "";
  $("edit-ref").value = external_ref || "";
}

// Run one action of the details panel; say what happened in words.
async function act(run, done) {
  notice("details-notice", "");
  try {
    await run();
    notice("details-notice", done, "ok");
  } catch (error) {
    notice("details-notice", sentence(error), "error");
  }
  state.openEtag = null;
  await Promise.all([refreshClient(), refreshList().catch(showListError)]);
}

const invitationPath = () => `${base()}/invitations/${$("details").dataset.invitationId}`;
const customMessage = () => $("custom-message").value.trim() || undefined;

async function showQr() {
  const grant = await post(`${invitationPath()}/qr-token`, { ttl_seconds: 300 });
  $("meeting-qr").src = local(grant.qr_svg_url);
  $("user-code").textContent = grant.user_code;
  $("meeting").hidden = false;
  const ends = new Date(grant.expires_at).getTime();
  const tick = () => {
    const left = Math.max(0, Math.round((ends - Date.now()) / 1000));
    if (left === 0) {
      $("countdown").textContent = "Expired. Show a new QR code.";
      $("meeting-qr").hidden = true;
      clearInterval(state.qrTimer);
      return;
    }
    $("meeting-qr").hidden = false;
    $("countdown").textContent = `Expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  };
  clearInterval(state.qrTimer);
  tick();
  state.qrTimer = setInterval(tick, 1000);
}

function hideQr() {
  clearInterval(state.qrTimer);
  $("meeting").hidden = true;
  $("meeting-qr").removeAttribute("src");
}

async function saveDetails(event) {
  event.preventDefault();
  const orNull = (v) => v.trim() || null;
  const values = {
    name: $("edit-name").value.trim(),
    email: orNull($("edit-email").value),
    language: $("edit-language").value,
    vat_number: orNull($("edit-vat").value),
    external_ref: orNull($("edit-ref").value),
  };
  // Only the fields changed here: another field changed elsewhere meanwhile keeps its value.
  const changed = Object.entries(values).filter(([field, value]) => value !== state.loaded[field]);
  await act(
    () =>
      patch(`${base()}/clients/${state.open}`, Object.fromEntries(changed)).then(() => {
        state.editing = false;
      }),
    "Details saved.",
  );
}

// --- registration links ---------------------------------------------------------------

async function refreshRegistrationLinks() {
  const { items } = await get(`${base()}/registration-links`);
  $("reg-links").replaceChildren(
    ...items.map((link) => {
      const state = link.revoked_at ? "revoked" : link.max_uses ? `${link.uses} of ${link.max_uses} uses` : `${link.uses} uses`;
      return el(
        "li",
        {},
        link.revoked_at ? el("span") : el("img", { class: "qr", src: local(link.qr_svg_url), alt: `QR code of ${link.label || "the registration link"}` }),
        el(
          "div",
          {},
          el("strong", { text: link.label || "Registration link" }),
          el("div", { class: "muted", text: `${state}${link.expires_at ? ` · expires ${when(link.expires_at)}` : ""}` }),
          el("div", { class: "muted", text: link.url }),
          link.revoked_at
            ? null
            : el(
                "div",
                { class: "row" },
                el("button", { class: "secondary", text: "Show poster", onclick: () => showPoster(link) }),
                el("button", { class: "danger", text: "Revoke", onclick: () => revokeRegistrationLink(link) }),
              ),
        ),
      );
    }),
  );
}

// The poster needs the sign-in, so it is fetched, then shown from a blob: URL.
async function showPoster(link) {
  const response = await fetch(`/api/v1/${base()}/registration-links/${link.id}/poster.svg`, {
    headers: { Authorization: `Bearer ${accessToken}` },
    cache: "no-store",
  });
  if (!response.ok) {
    notice("reg-notice", "The poster could not be made.", "error");
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const title = `Poster: ${link.label || "registration link"}`;
  $("poster").replaceChildren(
    el("h3", { text: title }),
    el("img", { src: url, alt: title }),
    el("p", {}, el("a", { href: url, download: "poster.svg", text: "Download the poster (SVG, A4)" })),
  );
  $("poster").hidden = false;
}

async function revokeRegistrationLink(link) {
  try {
    await post(`${base()}/registration-links/${link.id}/revoke`);
    $("poster").hidden = true;
  } catch (error) {
    notice("reg-notice", sentence(error), "error");
  }
  await refreshRegistrationLinks();
}

async function createRegistrationLink(event) {
  event.preventDefault();
  const label = $("reg-label").value.trim();
  try {
    await post(`${base()}/registration-links`, label ? { label } : {});
    $("reg-label").value = "";
    notice("reg-notice", "");
  } catch (error) {
    notice("reg-notice", sentence(error), "error");
  }
  await refreshRegistrationLinks();
}

// --- live -----------------------------------------------------------------------------

// Reads the feed from the start to its newest cursor, then holds a long-poll open; every
// batch of events triggers conditional GETs (a 304 redraws nothing).
async function follow() {
  let after = "0";
  for (;;) {
    const page = await get(`${base()}/events?after=${after}&limit=500`);
    after = page.next_cursor;
    if (page.events.length < 500) break;
  }
  for (;;) {
    try {
      const page = await get(`${base()}/events?after=${after}&wait=25`);
      $("live").textContent = "Live";
      if (page.events.length === 0) continue;
      after = page.next_cursor;
      const touched = new Set(page.events.map((e) => e.client_id));
      await refreshList();
      if (state.open && (touched.has(state.open) || touched.has(undefined))) await refreshClient();
      if (page.events.some((e) => !e.invitation_id)) await refreshRegistrationLinks();
    } catch (error) {
      $("live").textContent = error instanceof Problem ? sentence(error) : "Offline, retrying…";
      await sleep(3000);
    }
  }
}

// The controls answer from the first moment: a tab or a search chosen before the partner
// is known is the list start() asks for.
function wire() {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      const i = tabs.indexOf(tab);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      selectTab(tabs[(next + tabs.length) % tabs.length], true);
    });
  }
  let typing;
  $("search").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      state.search = $("search").value.trim();
      askNewList();
    }, 250);
  });
  $("more").addEventListener("click", () => loadMore().catch(showListError));
  $("invite").addEventListener("click", openInviteDialog);
  $("invite-form").addEventListener("submit", sendInvites);
  $("cancel-invite").addEventListener("click", () => $("invite-dialog").close());
  $("send-invite").addEventListener("click", () =>
    act(() => post(`${base()}/invitations`, { client_ids: [state.open], message: customMessage() }).then(({ results }) => {
      if (results[0].error) throw new Problem(409, results[0].error);
    }), "Invitation sent."),
  );
  $("resend").addEventListener("click", () =>
    act(() => post(`${invitationPath()}/resend`, { message: customMessage() }), "A new invitation was sent; the old link no longer works."),
  );
  $("revoke").addEventListener("click", () => act(() => post(`${invitationPath()}/revoke`), "Invitation revoked."));
  $("disconnect").addEventListener("click", () =>
    act(() => post(`${base()}/clients/${state.open}/disconnect`), "Disconnected: the client's business no longer shares its data."),
  );
  $("show-qr").addEventListener("click", () => showQr().catch((e) => notice("details-notice", sentence(e), "error")));
  $("hide-qr").addEventListener("click", hideQr);
  $("edit-form").addEventListener("input", () => (state.editing = true));
  $("edit-form").addEventListener("submit", saveDetails);
  $("reg-form").addEventListener("submit", createRegistrationLink);
}

async function start() {
  if (!requireSignIn($("signin"))) return;
  const me = await get("me");
  if (!me.partners.length) {
    notice("signin", "This user is not a member of any partner.", "error");
    return;
  }
  state.partner = me.partners[0];
  $("partner-name").textContent = state.partner.name;
  document.title = `Clients · ${state.partner.name}`;
  $("mail-link").href = `/demo/mail${location.hash}`;
  $("create-link").disabled = false; // a link is created for the partner, known from here
  await Promise.all([refreshList(), refreshRegistrationLinks()]);
  follow().catch(() => ($("live").textContent = "Offline"));
}

wire();
start().catch((error) => notice("signin", sentence(error instanceof Problem ? error : null), "error"));
