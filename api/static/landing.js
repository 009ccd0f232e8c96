// Watches the invitation while its landing page is open: once it is accepted in the app,
// the page says so. The page works without this script.
(function () {
  "use strict";
  var card = document.querySelector("[data-status-url]");
  if (!card || !window.fetch) return;
  var url = card.getAttribute("data-status-url");
  function show(connected) {
    document.getElementById("invitation").hidden = connected;
    document.getElementById("connected").hidden = !connected;
    if (connected) document.title = document.querySelector("#connected h1").textContent;
  }
  function poll() {
    fetch(url, { cache: "no-store", credentials: "omit" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.status === "accepted") show(true);
        else if (body.status === "pending") setTimeout(poll, 2000);
        else window.location.reload();
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
