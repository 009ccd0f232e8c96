// A sentence for every error code of the contract (mobile_contract/errors.py), as the
// app and the dashboard would show it.
export const SENTENCES = {
  unauthenticated: "You are not signed in, or your sign-in has expired. Open this page again with the address that make run printed.",
  not_found: "We could not find that. If you typed a code, check its letters and try again.",
  method_not_allowed: "This action is not possible here.",
  validation_failed: "Something in the request is not right; check what you entered.",
  token_invalid: "This is not a valid Banqup invitation link or QR code. Check that you copied all of it.",
  token_expired: "This QR code or link has expired. Ask your accountant to show a new one.",
  user_code_expired: "This code has expired or was already used. Ask your accountant for a new one.",
  invitation_expired: "This invitation has expired. Ask your accountant to send a new one.",
  invitation_revoked: "Your accountant withdrew this invitation.",
  invitation_superseded: "A newer invitation replaced this one. Use the link in the most recent email.",
  invitation_declined: "This invitation was declined, so it can no longer be used.",
  invitation_already_accepted: "This invitation was already accepted.",
  not_business_admin: "You are not an administrator of that business. Choose another one or create a new business.",
  business_already_linked: "That business is already linked to this accountant.",
  client_already_active: "This client is already connected.",
  client_already_invited: "This client already has a pending invitation.",
  client_missing_email: "This client has no email address; add one to its details first.",
  registration_link_revoked: "This registration link was withdrawn by the accountant.",
  registration_link_expired: "This registration link has expired.",
  registration_link_exhausted: "This registration link has been used as many times as allowed.",
  idempotency_conflict: "This request was already sent with other content; reload and try again.",
  rate_limited: "Too many tries in a short time. Wait a moment and try again.",
  payload_too_large: "That is more than can be sent at once; send less at a time.",
  unavailable: "The service is briefly unavailable. Try again in a moment.",
  internal_error: "Something went wrong on our side. Try again later.",
};

// The sentence for a Problem (see api.js), with what else the answer says.
export function sentence(problem) {
  if (!problem || !problem.code) return "The service could not be reached. Check the connection and try again.";
  let text = SENTENCES[problem.code] || problem.message || "Something went wrong.";
  if (problem.code === "rate_limited" && problem.retryAfter) {
    text = `Too many tries in a short time. Try again in ${problem.retryAfter} seconds.`;
  }
  const errors = (problem.body && problem.body.errors) || [];
  if (problem.code === "validation_failed" && errors.length) {
    text += " " + errors.map((e) => `${e.field}: ${e.message}`).join("; ") + ".";
  }
  return text;
}
