// The languages a question may be written in (the `language` values stored with a question):
// the editor and the highlighter of read-only code use the same parsers.
import { python } from "@codemirror/lang-python";
import { javascript } from "@codemirror/lang-javascript";
import { java } from "@codemirror/lang-java";
import { cpp } from "@codemirror/lang-cpp";
import { go } from "@codemirror/lang-go";
import { rust } from "@codemirror/lang-rust";

// CodeMirror's support for a stored language value, or null for plain text (or anything else).
export function languageSupport(name) {
  switch (name) {
    case "python": return python();
    case "javascript": return javascript();
    case "typescript": return javascript({ typescript: true });
    case "java": return java();
    case "cpp": return cpp();
    case "go": return go();
    case "rust": return rust();
    default: return null;
  }
}
