// Live events arrive over SSE (htmx sse extension, `sse-connect` on <body>). The extension only
// dispatches messages to elements with sse-swap, so listen on the EventSource itself, once per source.
const seenSources = new WeakSet();

function onEvent(data) {
  if (!data || !data.type) return;
  document.dispatchEvent(new CustomEvent("softdukan:event", { detail: data }));
  if (data.summary) showToast(data);
}

// Only events that carry a human summary pop a toast; pages react to the rest themselves
// (listen for `softdukan:event`), so a busy inbox does not bury the screen in status changes.
function showToast(data) {
  const box = document.getElementById("live-toasts");
  if (!box) return;
  const toast = document.createElement("div");
  toast.className = "toast show align-items-center text-bg-light border";
  toast.setAttribute("role", "status");
  toast.dataset.eventType = data.type;
  toast.innerHTML = '<div class="d-flex"><div class="toast-body"></div><button type="button" class="btn-close me-2 m-auto" data-bs-dismiss="toast" aria-label="Close"></button></div>';
  toast.querySelector(".toast-body").textContent = data.summary || data.type;
  box.appendChild(toast);
  setTimeout(() => toast.remove(), 8000);
}

document.addEventListener("htmx:sseOpen", (e) => {
  const source = e.detail && e.detail.source;
  if (!source || seenSources.has(source)) return;
  seenSources.add(source);
  source.addEventListener("message", (message) => {
    try { onEvent(JSON.parse(message.data)); } catch { /* not JSON: ignore */ }
  });
});
