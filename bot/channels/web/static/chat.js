// The chat feel on top of plain forms: send with fetch, append the new messages, replace the answer forms, move
// focus to the answer field and scroll. Without this script the same forms post and redirect (and work the same).
(function () {
  "use strict";

  function enhance(root) {
    root.querySelectorAll("form[data-chat]").forEach(function (form) {
      form.addEventListener("submit", function (event) { send(event, form); });
    });
  }

  function send(event, form) {
    if (!window.fetch || !window.FormData || !window.URLSearchParams) { return; }
    event.preventDefault();
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) { data.append(event.submitter.name, event.submitter.value); }
    var fields = form.querySelectorAll("button, input[type=text]");
    fields.forEach(function (field) { field.disabled = true; });
    // getAttribute: the buttons named "action" shadow form.action.
    // URL-encoded, as the form itself posts without this script (the server reads that kind of form fastest).
    fetch(form.getAttribute("action"), { method: "POST", body: new URLSearchParams(data), headers: { "X-Ungebot-Fetch": "1" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (!result.ok) { throw new Error(result.body.error || ""); }
        if (result.body.location) { window.location.assign(result.body.location); return; }
        show(result.body);
      })
      .catch(function () {  // fall back to the plain form (the server shows any error page)
        fields.forEach(function (field) { field.disabled = false; });
        if (event.submitter && event.submitter.name) {
          var pressed = document.createElement("input");
          pressed.type = "hidden";
          pressed.name = event.submitter.name;
          pressed.value = event.submitter.value;
          form.appendChild(pressed);
        }
        form.submit();
      });
  }

  function show(body) {
    var log = document.getElementById("samtale");
    var answer = document.getElementById("svar");
    var previous = log.querySelector("#seneste");
    if (previous) { previous.removeAttribute("id"); }
    log.insertAdjacentHTML("beforeend", body.messages);
    answer.innerHTML = body.controls;
    enhance(answer);
    addPrint(log);
    var latest = log.querySelector("#seneste") || log.lastElementChild;
    if (latest) { latest.scrollIntoView({ block: "start" }); }
    var field = answer.querySelector(".option-button") || answer.querySelector("input[type=text]");
    if (field) { field.focus({ preventScroll: true }); }
  }

  // A print button beside each outcome (the page's print style shows the case and hides the forms).
  function addPrint(root) {
    root.querySelectorAll(".message-outcome").forEach(function (message) {
      if (message.querySelector(".print-button")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button-tertiary print-button d-print-none";
      button.textContent = "Udskriv sagen";
      button.addEventListener("click", function () { window.print(); });
      message.appendChild(button);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    var log = document.getElementById("samtale");
    if (log) { addPrint(log); }
  });
})();
