// The candidate's editor page, bundled with CodeMirror into ../editor.js (see README.md).
// The page works without it: a plain textarea that saves and submits as a form. This turns the
// textarea into a highlighting editor, saves it as JSON every few seconds and on blur, and
// counts down to the server's deadline (rendered into data attributes; no inline script, as the
// Content-Security-Policy forbids it).
import { startCountdown } from "./src/countdown.js";
import { startEditor } from "./src/editor.js";

function main() {
  const form = document.getElementById("pad-form");
  const countdown = document.getElementById("countdown");
  if (!form) return;
  const pad = startEditor(form);
  if (countdown) {
    startCountdown(countdown, {
      onWarning: () => document.body.classList.add("pad-hurry"),
      // Whatever was typed since the last autosave, saved before the deadline refuses it.
      onLastSeconds: () => pad.saveNow(),
      onOver: () => pad.timeIsOver(),
    });
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", main);
} else {
  main();
}
