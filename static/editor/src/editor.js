// CodeMirror on the pad's textarea, with autosave. Text the server has not confirmed is kept
// in localStorage (./unsent.js) and sent as the page goes away (fetch with keepalive); on
// load, the editor shows what the server holds and offers newer text this browser kept.
import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { Compartment, EditorState } from "@codemirror/state";
import { indentWithTab } from "@codemirror/commands";
import { indentUnit } from "@codemirror/language";
import { languageSupport } from "./languages.js";
import { unsentStore } from "./unsent.js";

const AUTOSAVE_MS = 5000;
// Browsers refuse a keepalive request whose body passes 64 KB; larger code goes as a plain
// request (which may not outlive the page: localStorage still holds it).
const KEEPALIVE_MAX_BYTES = 60 * 1024;

// One level of indentation as the page gives it (`data-indent-unit`: "tab" or a number of
// spaces, the question's starter code's or its language's); four spaces if it gives none.
function indentText(unit) {
  if (unit === "tab") return "\t";
  const spaces = Number(unit);
  return " ".repeat(Number.isInteger(spaces) && spaces > 0 && spaces <= 8 ? spaces : 4);
}

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
  // After a 429, autosaves wait until then (ms since the epoch).
  let pausedUntil = 0;
  // Whether the text typed is kept in localStorage (then leaving the page needs no warning).
  let keptLocally = false;
  // The server's newest save (its saved_at in ms, the server's clock; 0 before any): text
  // kept in this browser counts as newer only when it was typed on that save or a later one.
  let serverSavedAt = Number(form.dataset.savedAt) || 0;
  const unsent = unsentStore(url);
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
        // Tab indents; Escape then Tab leaves the editor (CodeMirror's own tab-focus mode).
        keymap.of([indentWithTab]),
        indentUnit.of(indentText(form.dataset.indentUnit)),
        languageSupport(form.dataset.language) || [],
        EditorView.contentAttributes.of({ "aria-label": "Your code" }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) {
            dirty = true;
            textarea.value = update.state.doc.toString();
            keptLocally = unsent.keep(textarea.value, serverSavedAt);
            say("Unsaved changes");
          }
        }),
        EditorView.domEventHandlers({ blur: () => { save(); } }),
      ],
    }),
  });
  textarea.parentNode.insertBefore(view.dom, textarea);
  form.classList.add("pad-enhanced");
  // What the page says for a plain form (saved only by Save now) gives way to what is true now.
  form.querySelectorAll("[data-without-script]").forEach((el) => { el.hidden = true; });
  form.querySelectorAll("[data-with-script]").forEach((el) => { el.hidden = false; });

  const code = () => view.state.doc.toString();

  // Sends the code unless it is saved already. `leaving`: the page is going away, so the
  // request is made with keepalive (to outlive it) and regardless of a save in flight or a pause.
  async function save(leaving = false) {
    if (closed || !dirty) return;
    if (!leaving && (saving || Date.now() < pausedUntil)) return saving;
    const body = code();
    const size = new Blob([body]).size;
    if (size > maxBytes) {
      say(`Not saved: the code is over ${Math.round(maxBytes / 1024)} KB`, "error");
      return;
    }
    dirty = false;
    say("Saving…");
    const sent = (async () => {
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ code: body }),
          credentials: "same-origin",
          keepalive: leaving && size <= KEEPALIVE_MAX_BYTES,
        });
        const answer = await response.json().catch(() => ({}));
        if (response.ok) {
          serverSavedAt = Date.parse(answer.saved_at) || serverSavedAt;
          // Confirmed: the stored copy goes, unless newer text was typed meanwhile.
          if (code() === body) unsent.clear();
          say(`Saved ${clockTime(new Date())}`, "ok");
        } else if (response.status === 409) {
          unsent.clear();
          close(answer.error || "The time is over; changes are no longer saved.");
        } else if (response.status === 429) {
          dirty = true;
          const wait = Math.max(1, Number(response.headers.get("Retry-After")) || 5);
          pausedUntil = Date.now() + wait * 1000;
          setTimeout(save, wait * 1000);
          say(`Not saved yet: saves are coming too fast. Trying again in ${wait} s…`, "error");
        } else {
          dirty = true;
          say(`Not saved: ${answer.error || `the server answered ${response.status}`}`, "error");
        }
      } catch (e) {
        dirty = true;
        say("Not saved: no connection. Trying again…", "error");
      }
    })();
    if (leaving) return sent;
    saving = sent.finally(() => {
      saving = null;
    });
    return saving;
  }

  // Newer text than the server's, kept by this browser (a reload before it was saved): the
  // editor shows the server's, and the candidate chooses. Typing meanwhile works on the
  // version shown (the browser then keeps that); the kept text stays on offer here.
  function offerKeptText(held) {
    const notice = document.createElement("div");
    notice.className = "pad-restore";
    notice.setAttribute("role", "alert");
    const when = clockTime(new Date(held.at));
    const text = document.createElement("p");
    const shown = serverSavedAt
      ? `the version saved at ${clockTime(new Date(serverSavedAt))}`
      : "the code as it was given to you";
    text.textContent = `This browser kept newer changes, from ${when}, that did not reach the server. The editor shows ${shown}.`;
    const restore = document.createElement("button");
    restore.type = "button";
    restore.className = "btn btn-primary";
    restore.dataset.restore = "";
    restore.textContent = "Restore my newer changes";
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "btn btn-secondary";
    discard.dataset.discard = "";
    discard.textContent = "Keep the saved version";
    notice.append(text, restore, discard);
    view.dom.parentNode.insertBefore(notice, view.dom);
    notice.scrollIntoView({ block: "center" });
    restore.addEventListener("click", () => {
      notice.remove();
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: held.code } });
      save();
    });
    discard.addEventListener("click", () => {
      notice.remove();
      // Only the offered text goes: what was typed since stays kept until it is saved.
      if (!dirty) {
        unsent.clear();
        keptLocally = false;
      }
    });
  }

  const held = unsent.read();
  // Text typed on an older save than the server's newest was saved over since (from this
  // tab or another): it is not newer, so it is not offered.
  if (held && held.code !== code() && (Number(held.base) || 0) >= serverSavedAt) {
    offerKeptText(held);
  } else if (held) {
    unsent.clear();
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
  // The page may be going away (a reload, a closed tab, a switch to another app that may end
  // it): what is unsaved goes now, in a request that outlives the page.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden" && !submitting) save(true);
  });
  window.addEventListener("pagehide", () => {
    if (!submitting) save(true);
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty && !closed && !submitting && !keptLocally) event.preventDefault();
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
      // Confirmed here, so the server hands the code in at once (a plain form's Submit gets a
      // page asking first).
      const confirmed = document.createElement("input");
      confirmed.type = "hidden";
      confirmed.name = "confirmed";
      confirmed.value = "yes";
      form.append(confirmed);
      return;
    }
    // "Save now": the same JSON save, without leaving the page.
    event.preventDefault();
    dirty = true;
    pausedUntil = 0;
    save();
  });

  return {
    saveNow: save,
    // The code in the editor now.
    code,
    isClosed: () => closed,
    timeIsOver() {
      if (closed) return;
      close("The time is over. Your last saved code is your submission.");
    },
    // The server refused a request because the test is over (a 409): as for an autosave's.
    refused(message) {
      if (closed) return;
      unsent.clear();
      close(message || "The time is over; changes are no longer saved.");
    },
  };
}
