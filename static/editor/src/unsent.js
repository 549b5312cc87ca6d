// The candidate's text that the server has not confirmed yet, kept in this browser's
// localStorage (one entry per link) so that a reload, a crash or a closed tab loses nothing:
// written on every change, cleared once a save of that very text is confirmed. Every call
// tolerates a browser without storage (private modes, a full quota): it then keeps nothing.

export function unsentStore(link) {
  const key = `leverbridge-unsent:${link}`;
  return {
    // The text kept, when (ms since the epoch, this computer's clock), and the server's save
    // it was typed on (`base`: its saved_at in ms, the server's clock; 0 before any), or null.
    read() {
      try {
        const held = JSON.parse(localStorage.getItem(key) || "null");
        return held && typeof held.code === "string" ? held : null;
      } catch (e) {
        return null;
      }
    },
    // Keeps `code`, typed on the server's save of `base`; true when it is kept.
    keep(code, base) {
      try {
        localStorage.setItem(key, JSON.stringify({ code, at: Date.now(), base }));
        return true;
      } catch (e) {
        return false;
      }
    },
    clear() {
      try {
        localStorage.removeItem(key);
      } catch (e) {
        // Nothing was kept.
      }
    },
  };
}
