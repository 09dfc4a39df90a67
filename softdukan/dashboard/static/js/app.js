// Live events arrive over SSE (htmx sse extension on <body>); show each as a toast.
document.addEventListener("htmx:sseMessage", (e) => {
  let data;
  try { data = JSON.parse(e.detail.data); } catch { return; }
  const box = document.getElementById("live-toasts");
  if (!box || !data.type) return;
  const toast = document.createElement("div");
  toast.className = "toast show align-items-center text-bg-light border";
  toast.setAttribute("role", "status");
  toast.dataset.eventType = data.type;
  toast.innerHTML = '<div class="d-flex"><div class="toast-body"></div><button type="button" class="btn-close me-2 m-auto" data-bs-dismiss="toast" aria-label="Close"></button></div>';
  toast.querySelector(".toast-body").textContent = data.summary || data.type;
  box.appendChild(toast);
  setTimeout(() => toast.remove(), 8000);
});
