// The pad's run panel: *Run* runs the code in the editor on the custom input, *Run tests* on the
// question's visible cases, both on the server (`data-run`, `data-run-tests` on `#pad-form`).
// The server answers 200 with the result when the run finished quickly, or 202 with a URL to
// poll while it is queued or running; 429 (with `Retry-After`) when runs come too fast; 409
// when the test is over (then the editor closes, as for an autosave's 409). Everything the
// program printed is put into the page as text, never as markup.

const POLL_MS = 700;
// Polls that fail for want of a connection before the panel gives up on the run.
const MAX_POLL_FAILURES = 10;

const VERDICT_LABELS = {
  passed: "Passed",
  wrong_answer: "Wrong answer",
  time_limit: "Time limit exceeded",
  runtime_error: "Runtime error",
  compile_error: "Compile error",
};

// `el("p", { class: "x" }, "text", child)`: an element with attributes and children (strings
// become text nodes).
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function seconds(ms) {
  return `${((Number(ms) || 0) / 1000).toFixed(2)} s`;
}

function capitalised(text) {
  const s = String(text || "");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// A `<pre>` of what a program printed, with a mark when the server cut it short.
function stream(title, text, truncated, kind) {
  const empty = !text;
  return el(
    "div",
    { class: `pad-run-stream pad-run-stream-${kind}` },
    el("h3", { class: "pad-run-stream-title" }, title),
    el("pre", { class: `pad-run-pre${empty ? " pad-run-empty" : ""}` }, empty ? "(nothing)" : text),
    truncated ? el("p", { class: "pad-run-truncated" }, "output truncated") : null,
  );
}

// The status line of a custom run: "Exited with code 0 in 0.12 s", "Compile error", …
export function runSummary(result) {
  const time = seconds(result.time_ms);
  switch (result.status) {
    case "ok":
      return [`${capitalised(result.ending || "exited with code 0")} in ${time}`, "ok"];
    case "compile_error":
      return ["Compile error", "bad"];
    case "time_limit":
      return [`Time limit exceeded: ${result.ending || `stopped after ${time}`}`, "bad"];
    case "runtime_error":
      return [`Runtime error: ${result.ending || "the program failed"} after ${time}`, "bad"];
    default:
      return [capitalised(result.ending || result.status || "Finished"), "muted"];
  }
}

function renderRun(result) {
  const [summary, tone] = runSummary(result);
  const compile = result.status === "compile_error";
  return el(
    "div",
    { class: "pad-run-result", "data-result": "run" },
    el("p", { class: `pad-run-summary pad-run-summary-${tone}` }, summary),
    compile ? null : stream("Output (stdout)", result.stdout, result.stdout_truncated, "stdout"),
    compile || result.stderr
      ? stream(
          compile ? "Compiler output" : "Errors (stderr)",
          result.stderr,
          result.stderr_truncated,
          "stderr",
        )
      : null,
  );
}

function labelled(title, text) {
  return el(
    "div",
    { class: "pad-case-part" },
    el("h4", { class: "pad-case-part-title" }, title),
    el("pre", { class: `pad-run-pre${text ? "" : " pad-run-empty"}` }, text || "(nothing)"),
  );
}

function renderCase(c, { compilerShown }) {
  const verdict = c.verdict || "unknown";
  const label = c.label || VERDICT_LABELS[verdict] || capitalised(verdict);
  const passed = verdict === "passed";
  const head = el(
    "div",
    { class: "pad-case-head" },
    el("span", { class: "pad-case-name" }, `Case ${c.position}`),
    el("span", { class: `badge ${passed ? "badge-ok" : "badge-bad"} pad-case-verdict` }, label),
    verdict === "compile_error" ? null : el("span", { class: "pad-case-time" }, seconds(c.time_ms)),
  );
  const input = labelled("Input", c.input);
  let body;
  switch (verdict) {
    case "passed":
      body = el(
        "details",
        { class: "pad-case-details" },
        el("summary", {}, "Input and output"),
        el("div", { class: "pad-case-compare" }, input, labelled("Output", c.got)),
      );
      break;
    case "wrong_answer":
      body = [
        input,
        el("div", { class: "pad-case-compare" }, labelled("Expected", c.expected), labelled("Got", c.got)),
      ];
      break;
    case "runtime_error":
      body = [
        el("p", { class: "pad-case-ending" }, capitalised(c.ending || "the program failed")),
        input,
        labelled("Errors (stderr)", c.stderr),
      ];
      break;
    case "time_limit":
      body = [
        el("p", { class: "pad-case-ending" }, capitalised(c.ending || `stopped after ${seconds(c.time_ms)}`)),
        input,
      ];
      break;
    case "compile_error":
      body = compilerShown ? null : labelled("Compiler output", c.stderr);
      break;
    default:
      body = [input, labelled("Got", c.got)];
  }
  return el("li", { class: `pad-case pad-case-${verdict}`, "data-verdict": verdict }, head, body);
}

function renderTests(result) {
  const cases = Array.isArray(result.cases) ? result.cases : [];
  const total = Number(result.total ?? cases.length);
  const passed = Number(result.passed ?? cases.filter((c) => c.verdict === "passed").length);
  const noun = total === 1 ? "visible case" : "visible cases";
  const summary = `${passed} of ${total} ${noun} passed`;
  // A compile error fails every case alike: its output shows once, above them.
  const compiled = cases.find((c) => c.verdict === "compile_error");
  return el(
    "div",
    { class: "pad-run-result", "data-result": "tests" },
    el(
      "p",
      { class: `pad-run-summary pad-run-summary-${passed === total ? "ok" : "bad"}` },
      summary,
    ),
    compiled
      ? el(
          "div",
          { class: "pad-run-compile" },
          el("p", { class: "pad-case-ending" }, "Compile error: the code did not compile, so no case ran."),
          stream("Compiler output", compiled.stderr, false, "stderr"),
        )
      : null,
    el("ol", { class: "pad-cases" }, cases.map((c) => renderCase(c, { compilerShown: !!compiled }))),
  );
}

export function startRunPanel(form, pad) {
  const panel = document.getElementById("pad-run");
  if (!panel || "runUnavailable" in form.dataset) return;
  const output = document.getElementById("run-output");
  const input = document.getElementById("run-input");
  const runButton = panel.querySelector("[data-run-button]");
  const testsButton = panel.querySelector("[data-run-tests-button]");
  const buttons = [runButton, testsButton].filter(Boolean);
  let busy = false;
  // After a 429, no run until then (ms since the epoch).
  let waitUntil = 0;
  let waitTimer = null;

  // Into view: the panel scrolls on a wide screen, the page on a narrow one.
  const reveal = () => output.scrollIntoView({ block: "nearest" });
  const show = (...nodes) => output.replaceChildren(...nodes);
  const note = (text, kind = "muted") =>
    show(el("p", { class: `pad-run-summary pad-run-summary-${kind}` }, text));
  const enable = (on) => {
    const allowed = on && !pad.isClosed() && Date.now() >= waitUntil;
    buttons.forEach((b) => {
      b.disabled = !allowed;
    });
  };

  // A 429: say how long to wait, count it down, and allow runs again after it.
  function pause(seconds) {
    const gap = Number(form.dataset.runGap) || 0;
    const message = gap > 0 ? `Runs are limited to one every ${gap} s.` : "Too soon after the last run.";
    waitUntil = Date.now() + seconds * 1000;
    clearInterval(waitTimer);
    const tick = () => {
      const left = Math.ceil((waitUntil - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(waitTimer);
        waitTimer = null;
        waitUntil = 0;
        note("You can run your code again.");
        enable(true);
        return;
      }
      note(`${message} You can run again in ${left} s.`, "warn");
    };
    waitTimer = setInterval(tick, 250);
    tick();
  }

  async function request(url, options) {
    const response = await fetch(url, {
      credentials: "same-origin",
      ...options,
      headers: { Accept: "application/json", ...(options && options.headers) },
    });
    const answer = await response.json().catch(() => ({}));
    return { response, answer };
  }

  const waiting = (status) => (status === "queued" ? "Queued…" : "Running…");

  // Polls `url` until the run is done; its result, or null when something else was shown.
  async function poll(url) {
    let failures = 0;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      let got;
      try {
        got = await request(url, { method: "GET" });
      } catch (e) {
        failures += 1;
        if (failures >= MAX_POLL_FAILURES) {
          note("No connection to the server: the result could not be fetched. Try again.", "bad");
          return null;
        }
        note("Waiting for the connection…", "warn");
        continue;
      }
      failures = 0;
      const { response, answer } = got;
      if (!response.ok) return refusal(response, answer);
      const run = answer.run || {};
      if (run.status === "done") return run.result || {};
      note(waiting(run.status));
    }
  }

  // Shows why the server refused (or stopped) a run; always null.
  function refusal(response, answer) {
    const message = answer.error || `The server answered ${response.status}.`;
    if (response.status === 409) {
      note(message, "bad");
      pad.refused(message);
    } else if (response.status === 429) {
      const wait = Number(response.headers.get("Retry-After"));
      if (wait > 0) {
        pause(wait);
      } else {
        // The attempt's runs are used up: no more until the page is loaded again.
        waitUntil = Infinity;
        note(message, "bad");
      }
    } else {
      note(message, "bad");
    }
    return null;
  }

  async function start(url, body, render) {
    if (busy || pad.isClosed() || Date.now() < waitUntil) return;
    busy = true;
    enable(false);
    output.setAttribute("aria-busy", "true");
    note("Running…");
    reveal();
    try {
      const { response, answer } = await request(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      let result = null;
      if (response.status === 200 && answer.run && answer.run.status === "done") {
        result = answer.run.result || {};
      } else if (response.status === 202 && answer.poll) {
        note(waiting(answer.run && answer.run.status));
        result = await poll(answer.poll);
      } else if (response.ok) {
        note("The server's answer could not be read. Try again.", "bad");
      } else {
        refusal(response, answer);
      }
      if (result) show(render(result));
      reveal();
    } catch (e) {
      note("No connection to the server: the code did not run. Try again.", "bad");
    } finally {
      busy = false;
      output.removeAttribute("aria-busy");
      enable(true);
    }
  }

  runButton.addEventListener("click", () =>
    start(form.dataset.run, { code: pad.code(), input: input.value }, renderRun),
  );
  if (testsButton) {
    testsButton.addEventListener("click", () =>
      start(form.dataset.runTests, { code: pad.code() }, renderTests),
    );
  }
  form.classList.add("pad-run-ready");
}
