// Counts down to the server's deadline. The page carries the deadline and the server's "now"
// (both in ms since the epoch), so a wrong clock on the candidate's computer does not matter:
// only the time elapsed since the page loaded is measured locally.

const WARN_MS = 5 * 60 * 1000;

export function remainingText(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

export function startCountdown(el, { onWarning, onLastSeconds, onOver }) {
  const deadline = Number(el.dataset.deadlineMs);
  const serverNow = Number(el.dataset.nowMs);
  if (!Number.isFinite(deadline) || !Number.isFinite(serverNow)) return;
  const loadedAt = performance.now();
  const value = el.querySelector(".countdown-value") || el;
  let warned = false;
  let lastCall = false;
  let over = false;
  const tick = () => {
    const left = deadline - (serverNow + (performance.now() - loadedAt));
    if (left <= 0) {
      value.textContent = "Time is over";
      el.classList.add("countdown-over");
      if (!over) {
        over = true;
        clearInterval(timer);
        onOver();
      }
      return;
    }
    value.textContent = `${remainingText(left)} left`;
    if (left <= 3000 && !lastCall) {
      lastCall = true;
      onLastSeconds();
    }
    if (left <= WARN_MS && !warned) {
      warned = true;
      el.classList.add("countdown-warn");
      onWarning();
    }
  };
  const timer = setInterval(tick, 250);
  tick();
}
