// The app's side: what Banqup One does with an invitation link, a scanned QR code or a
// typed code: preview, then confirm with a business (or a new one) or decline.
import { Problem, el, get, post, requireSignIn, when } from "./api.js";
import { sentence } from "./errors.js";

const $ = (id) => document.getElementById(id);
let grant = null;   // {token} or {user_code} of the current preview
let preview = null;

// A link …/i/TOKEN, an app link scheme://invite?token=TOKEN, a bare token, or a typed
// code (8 letters; spaces and the dash do not matter): what preview, confirm and decline take.
export function grantOf(text) {
  const value = text.trim();
  const letters = value.replace(/[\s-]/g, "");
  if (/^[A-Za-z]{8}$/.test(letters)) return { user_code: value };
  const universal = value.match(/\/i\/([^/?#\s]+)/);
  if (universal) return { token: decodeURIComponent(universal[1]) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    const query = value.split("?")[1] || "";
    const token = new URLSearchParams(query.split("#")[0]).get("token");
    if (token) return { token };
  }
  return { token: value };
}

function say(text, kind = "") {
  $("outcome").textContent = text;
  $("outcome").className = `notice ${kind}`;
  $("outcome").hidden = !text;
}

const ACCESS = { full: "full access", read_only: "read-only access" };

async function showPreview(event) {
  if (event) event.preventDefault();
  say("");
  $("offer").hidden = true;
  const text = $("invitation-link").value;
  if (!text.trim()) {
    say("Paste the invitation link, scan its QR code or type the code first.", "error");
    $("invitation-link").focus();
    return;
  }
  grant = grantOf(text);
  try {
    preview = await post("mobile/invitations/preview", grant);
  } catch (error) {
    say(sentence(error), "error");
    return;
  }
  const partner = preview.partner.name;
  $("offer-title").textContent = `${partner} asks for ${ACCESS[preview.access_level]} to your business`;
  $("offer-for").textContent =
    preview.kind === "invitation"
      ? `Invitation for ${preview.client_name || "your business"}.`
      : `A registration link of ${partner}: confirming makes your business one of its clients.`;
  $("offer-message").textContent = preview.message || "";
  $("offer-message").hidden = !preview.message;
  $("offer-expires").textContent = preview.expires_at ? `Valid until ${when(preview.expires_at)}.` : "";
  const choices = preview.businesses.map((business, index) => {
    const input = el("input", {
      type: "radio",
      name: "business",
      value: business.id,
      id: `business-${index}`,
      disabled: business.already_linked,
    });
    const suffix = business.already_linked ? ` (already linked to ${partner})` : "";
    return el("label", { class: "choice", for: input.id }, input, document.createTextNode(business.name + suffix));
  });
  $("businesses").replaceChildren(...choices);
  const first = document.querySelector('#businesses input:not([disabled])');
  (first || $("new-business")).checked = true;
  $("business-name").value = preview.client_name || "";
  toggleNewBusiness();
  $("offer").hidden = false;
  $("offer-title").tabIndex = -1;
  $("offer-title").focus();
}

function toggleNewBusiness() {
  $("new-business-field").hidden = !$("new-business").checked;
}

async function confirm(event) {
  event.preventDefault();
  const chosen = document.querySelector('input[name="business"]:checked');
  const body = { ...grant };
  let businessName;
  if (!chosen || chosen.value === "new") {
    const name = $("business-name").value.trim();
    if (!name) {
      say("Give the new business a name.", "error");
      $("business-name").focus();
      return;
    }
    body.new_business = { name };
    businessName = name;
  } else {
    body.business_id = chosen.value;
    businessName = preview.businesses.find((b) => b.id === chosen.value).name;
  }
  try {
    const result = await post("mobile/invitations/confirm", body);
    const partner = result.link.partner_name || preview.partner.name;
    $("offer").hidden = true;
    say(`Done: ${partner} now has ${ACCESS[result.link.access_level]} to ${businessName}. You can withdraw it at any time in the app.`, "ok");
  } catch (error) {
    say(sentence(error), "error");
  }
}

async function decline() {
  try {
    await post("mobile/invitations/decline", { ...grant });
    $("offer").hidden = true;
    say(`You declined. ${preview.partner.name} gets no access to your business.`, "ok");
  } catch (error) {
    say(sentence(error), "error");
  }
}

// --- Scan -----------------------------------------------------------------------------

// The text of the first QR code in `source` (an ImageBitmap or a video frame), or null:
// the browser's BarcodeDetector where it exists, else jsQR shipped with this page.
async function readQr(source, width, height) {
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) {
        const found = await new window.BarcodeDetector({ formats: ["qr_code"] }).detect(source);
        if (found.length) return found[0].rawValue;
        return null;
      }
    } catch {
      // fall through to jsQR
    }
  }
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(source, 0, 0, width, height);
  const pixels = context.getImageData(0, 0, width, height);
  const code = window.jsQR(pixels.data, width, height, { inversionAttempts: "attemptBoth" });
  return code ? code.data : null;
}

function scanned(text) {
  $("invitation-link").value = text;
  $("scan-notice").hidden = true;
  showPreview();
}

function scanNotice(text) {
  $("scan-notice").textContent = text;
  $("scan-notice").className = "notice error";
  $("scan-notice").hidden = false;
}

async function scanFile() {
  const file = $("scan-file").files[0];
  $("scan-file").value = "";
  if (!file) return;
  try {
    const image = await createImageBitmap(file);
    const text = await readQr(image, image.width, image.height);
    if (text) scanned(text);
    else scanNotice("No QR code found in that image. Try a sharper or closer picture.");
  } catch {
    scanNotice("That file could not be read as an image.");
  }
}

let stream = null;
async function scanCamera() {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch {
    scanNotice("The camera is not available. Upload a picture of the QR code instead.");
    return;
  }
  const video = $("video");
  video.srcObject = stream;
  $("camera").hidden = false;
  await video.play();
  const look = async () => {
    if (!stream) return;
    if (video.videoWidth) {
      const text = await readQr(video, video.videoWidth, video.videoHeight);
      if (text) {
        stopCamera();
        scanned(text);
        return;
      }
    }
    setTimeout(look, 250);
  };
  look();
}

function stopCamera() {
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  $("camera").hidden = true;
}

async function start() {
  $("grant-form").addEventListener("submit", showPreview);
  $("confirm-form").addEventListener("submit", confirm);
  $("decline").addEventListener("click", decline);
  $("new-business").addEventListener("change", toggleNewBusiness);
  $("businesses").addEventListener("change", toggleNewBusiness);
  $("scan-file").addEventListener("change", scanFile);
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    $("scan-camera").hidden = false;
    $("scan-camera").addEventListener("click", scanCamera);
    $("stop-camera").addEventListener("click", stopCamera);
  }
  if (!requireSignIn($("signin"))) return;
  const me = await get("me");
  $("who").textContent = `Signed in as ${me.user.name || me.user.email || me.user.sub}`;
}

start().catch((error) => say(sentence(error instanceof Problem ? error : null), "error"));
