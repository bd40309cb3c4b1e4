// The session builder: a problem's line number puts the cursor on that line of the text box,
// where it is fixed (without script the link goes to the numbered listing instead).
(function () {
  "use strict";
  const box = document.querySelector("textarea.definition-text[name=text]");
  if (!box) return;
  for (const link of document.querySelectorAll("a[data-line]")) {
    link.addEventListener("click", (event) => {
      const lines = box.value.split("\n");
      const wanted = Math.min(Number(link.dataset.line), lines.length) - 1;
      let start = 0;
      for (let i = 0; i < wanted; i++) start += lines[i].length + 1;
      event.preventDefault();
      box.focus();
      box.setSelectionRange(start, start + lines[wanted].length);
      const height = box.scrollHeight / Math.max(lines.length, 1);
      box.scrollTop = Math.max(0, (wanted - 3) * height);
    });
  }
})();
