// Syntax highlighting for code shown read-only, such as a submission on the reviewers' page of
// an assessment: `<code data-highlight="python">`. The editor's own parser reads the code and
// each token becomes a `span.tok-*`, coloured like the editor by static/style.css. No editor
// is created and no style injected (the Content-Security-Policy allows neither inline script
// nor inline style). The code is the candidate's, so it only ever goes in as text.
import { classHighlighter, highlightCode } from "@lezer/highlight";
import { languageSupport } from "./languages.js";

// Leaves plain text, and any language the editor does not know, as it is.
export function highlight(code) {
  const support = languageSupport(code.dataset.highlight);
  if (!support) return;
  const text = code.textContent;
  const tree = support.language.parser.parse(text);
  const out = document.createDocumentFragment();
  highlightCode(
    text,
    tree,
    classHighlighter,
    (piece, classes) => {
      if (!classes) {
        out.append(piece);
        return;
      }
      const token = document.createElement("span");
      token.className = classes;
      token.textContent = piece;
      out.append(token);
    },
    () => out.append("\n"),
  );
  code.replaceChildren(out);
}
