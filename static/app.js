// Behaviour the pages need, kept out of the HTML so the Content-Security-Policy can forbid
// inline scripts. A click in a copy field selects its whole value.
document.addEventListener("click", function (event) {
  var field = event.target.closest && event.target.closest(".copy-field");
  if (field) field.select();
});

// Tab in a code box (a question's starter code and reference solution) indents as an editor
// does: it inserts the indentation the code already uses (4 spaces when it shows none), or
// indents every selected line; Shift+Tab takes one level off. Escape first, and the next Tab
// leaves the box as usual, so the keyboard is never trapped.
(function () {
  var leaving = false;
  function unit(text) {
    var match = /^(\t| +)\S/m.exec(text);
    if (match && match[1] === "\t") return "\t";
    if (match && match[1].length < 4) return match[1];
    return "    ";
  }
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (!box.classList || !box.classList.contains("code-input")) return;
    if (event.key === "Escape") { leaving = true; return; }
    if (event.key !== "Tab" || leaving || event.altKey || event.ctrlKey || event.metaKey) {
      leaving = false;
      return;
    }
    event.preventDefault();
    var text = box.value, start = box.selectionStart, end = box.selectionEnd;
    var indent = unit(text);
    var lineStart = text.lastIndexOf("\n", start - 1) + 1;
    if (start === end && !event.shiftKey) {
      box.setRangeText(indent, start, end, "end");
    } else {
      var block = text.slice(lineStart, end);
      var changed = block.split("\n").map(function (line) {
        if (!event.shiftKey) return indent + line;
        return line.startsWith(indent) ? line.slice(indent.length) : line.replace(/^[ \t]+/, "");
      }).join("\n");
      box.setRangeText(changed, lineStart, end, "select");
    }
    box.dispatchEvent(new Event("input", { bubbles: true }));
  });
  document.addEventListener("focusout", function () { leaving = false; });
})();
