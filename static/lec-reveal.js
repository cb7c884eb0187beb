// The "show the whole ID" button beside a masked national ID: one POST per click to the logged
// reveal endpoint, with the page's CSRF token; the answer replaces the masked text in place.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".lec-reveal") : null;
    if (!button) { return; }
    event.preventDefault();
    var token = document.querySelector("input[name='csrf_token']");
    var body = new FormData();
    body.append("model", button.getAttribute("data-model"));
    body.append("id", button.getAttribute("data-id"));
    body.append("csrf_token", token ? token.value : "");
    button.disabled = true;
    fetch(button.getAttribute("data-url"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
      .then(function (data) {
        var shown = button.previousElementSibling;
        if (shown && shown.classList.contains("lec-id")) { shown.textContent = data.national_id; }
        button.remove();
      })
      .catch(function (response) {
        button.disabled = false;
        // Past the hourly allowance the answer says so; the button then says why it did nothing.
        if (response && response.status === 429) {
          response.json().then(function (data) { button.textContent = data.detail; });
        }
      });
  });
})();
