// Behaviour the pages need, kept out of the HTML so the Content-Security-Policy can forbid
// inline scripts. A click in a copy field selects its whole value.
document.addEventListener("click", function (event) {
  var field = event.target.closest && event.target.closest(".copy-field");
  if (field) field.select();
});
