// The console works without this file; it adds the copy button and confirmations.
"use strict";
document.addEventListener("click", (event) => {
  const copy = event.target.closest("button[data-copy]");
  if (copy) {
    const field = document.getElementById(copy.dataset.copy);
    if (field) {
      field.select();
      if (navigator.clipboard) {
        navigator.clipboard.writeText(field.value).catch(() => document.execCommand("copy"));
      } else {
        document.execCommand("copy");
      }
      copy.textContent = "✓";
    }
  }
});
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
