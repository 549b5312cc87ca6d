// The pages' script, bundled with CodeMirror into ../editor.js (see README.md). Every page works
// without it.
//
// On the candidate's editor page (`#pad-form`), a plain textarea that saves and submits as a
// form: this turns the textarea into a highlighting editor, saves it as JSON every few seconds
// and on blur, counts down to the server's deadline (rendered into data attributes; no
// inline script, as the Content-Security-Policy forbids it), and runs the code on the server
// (custom input, the visible test cases) from the panel under the editor.
//
// On any page, `<code data-highlight="…">` (a submission, for its reviewers) is highlighted
// with the editor's parsers.
import { startCountdown } from "./src/countdown.js";
import { startEditor } from "./src/editor.js";
import { highlight } from "./src/highlight.js";
import { startRunPanel } from "./src/run.js";

function startPad(form) {
  const countdown = document.getElementById("countdown");
  const pad = startEditor(form);
  startRunPanel(form, pad);
  if (countdown) {
    startCountdown(countdown, {
      onWarning: () => document.body.classList.add("pad-hurry"),
      // Whatever was typed since the last autosave, saved before the deadline refuses it.
      onLastSeconds: () => pad.saveNow(),
      onOver: () => pad.timeIsOver(),
    });
  }
}

function main() {
  const form = document.getElementById("pad-form");
  if (form) startPad(form);
  document.querySelectorAll("code[data-highlight]").forEach(highlight);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", main);
} else {
  main();
}
