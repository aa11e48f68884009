// A "copy" button copies the field it names (data-copy="ID"). Without this script (or
// without the clipboard) the button stays hidden and the field can be copied by hand.
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.dataset.copy);
  if (!field || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = "Lien copié";
    });
  });
});
