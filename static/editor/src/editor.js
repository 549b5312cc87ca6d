// CodeMirror on the pad's textarea, with autosave.
import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { Compartment, EditorState } from "@codemirror/state";
import { indentWithTab } from "@codemirror/commands";
import { languageSupport } from "./languages.js";

const AUTOSAVE_MS = 5000;

function clockTime(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function startEditor(form) {
  const textarea = form.querySelector("textarea[name=code]");
  const status = document.getElementById("pad-status");
  const url = form.dataset.autosave;
  const maxBytes = Number(form.dataset.maxBytes) || Infinity;
  let dirty = false;
  let saving = null;
  let closed = false;
  const editable = new Compartment();

  const say = (text, kind) => {
    if (!status) return;
    status.textContent = text;
    status.className = `pad-status${kind ? ` pad-status-${kind}` : ""}`;
  };

  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        basicSetup,
        // CodeMirror injects its styles in a <style> element; the page's CSP admits it by nonce.
        EditorView.cspNonce.of(form.dataset.styleNonce || ""),
        editable.of(EditorView.editable.of(true)),
        keymap.of([indentWithTab]),
        languageSupport(form.dataset.language) || [],
        EditorView.contentAttributes.of({ "aria-label": "Your code" }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) {
            dirty = true;
            textarea.value = update.state.doc.toString();
            say("Unsaved changes");
          }
        }),
        EditorView.domEventHandlers({ blur: () => { save(); } }),
      ],
    }),
  });
  textarea.parentNode.insertBefore(view.dom, textarea);
  form.classList.add("pad-enhanced");

  const code = () => view.state.doc.toString();

  async function save() {
    if (closed || !dirty) return;
    if (saving) return saving;
    const body = code();
    if (new Blob([body]).size > maxBytes) {
      say(`Not saved: the code is over ${Math.round(maxBytes / 1024)} KB`, "error");
      return;
    }
    dirty = false;
    say("Saving…");
    saving = (async () => {
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ code: body }),
          credentials: "same-origin",
        });
        const answer = await response.json().catch(() => ({}));
        if (response.ok) {
          say(`Saved ${clockTime(new Date())}`, "ok");
        } else if (response.status === 409) {
          close(answer.error || "The time is over; changes are no longer saved.");
        } else {
          dirty = true;
          say(`Not saved: ${answer.error || `the server answered ${response.status}`}`, "error");
        }
      } catch (e) {
        dirty = true;
        say("Not saved: no connection. Trying again…", "error");
      } finally {
        saving = null;
      }
    })();
    return saving;
  }

  function close(message) {
    closed = true;
    view.dispatch({ effects: editable.reconfigure(EditorView.editable.of(false)) });
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    say(message, "error");
    // The page itself then says what happened to the submission.
    setTimeout(() => window.location.reload(), 2500);
  }

  setInterval(save, AUTOSAVE_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") save();
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty && !closed && !submitting) event.preventDefault();
  });

  let submitting = false;
  form.addEventListener("submit", (event) => {
    textarea.value = code();
    const button = event.submitter;
    if (button && button.dataset.confirm) {
      if (!window.confirm(button.dataset.confirm)) {
        event.preventDefault();
        return;
      }
      submitting = true;
      return;
    }
    // "Save now": the same JSON save, without leaving the page.
    event.preventDefault();
    dirty = true;
    save();
  });

  return {
    saveNow: save,
    timeIsOver() {
      if (closed) return;
      close("The time is over. Your last saved code is your submission.");
    },
  };
}
