// The console's own behaviour, kept out of the pages (the CSP allows no inline script).
"use strict";
document.addEventListener("click", function (event) {
  var target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
  if (target) {
    window.print();
  }
});
