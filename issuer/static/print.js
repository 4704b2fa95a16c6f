// A "Print" button (data-print) prints the page; without JavaScript the browser's own Print does the same.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
