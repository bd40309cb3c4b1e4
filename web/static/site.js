// Small behaviours of every page (the CSP allows no inline script). Without this script
// the pages still work: the menu stays open, the key form keeps its fields.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    // On a narrow screen the header's links fold behind one menu button (style.css).
    const button = document.querySelector("button.nav-toggle");
    const nav = document.getElementById("site-nav");
    if (button && nav) {
      button.hidden = false;
      button.addEventListener("click", function () {
        const open = nav.classList.toggle("open");
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    // A box that scrolls sideways (a wide table on a phone) takes the keyboard's focus, so
    // its hidden columns can be reached with the arrow keys.
    function scrollers() {
      for (const box of document.querySelectorAll(".table-wrap, .viewer, main table")) {
        if (box.scrollWidth > box.clientWidth + 1) box.tabIndex = 0;
        else if (box.tabIndex === 0 && !box.matches(".viewer")) box.removeAttribute("tabindex");
      }
    }
    scrollers();
    window.addEventListener("resize", scrollers);
    // The key file (and a custodian's share) comes back as a download and the page stays:
    // once the form is sent, its passphrases are cleared, what offered the download once
    // goes, and the page says where the key went.
    for (const form of document.querySelectorAll("form.key-file, form.share-take")) {
      form.addEventListener("submit", function () {
        setTimeout(function () {
          for (const field of form.querySelectorAll("input[type=password]")) field.value = "";
          for (const once of form.querySelectorAll(".until-download")) once.hidden = true;
          const made = form.querySelector(".key-made");
          if (made) made.hidden = false;
        }, 0);
      });
    }
  });
})();
