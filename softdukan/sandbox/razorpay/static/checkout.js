/* SoftDukan sandbox: Razorpay Standard Checkout (checkout.js) */
(function () {
  "use strict";
  var BASE = __BASE__, ORIGIN = new URL(BASE, window.location.href).origin;

  function Razorpay(options) {
    if (!(this instanceof Razorpay)) return new Razorpay(options);
    if (!options || !options.key || !options.order_id) {
      throw new Error("Razorpay: options.key and options.order_id are required");
    }
    var self = this;
    this.options = options;
    this.listeners = {};
    this.overlay = null;
    this.onMessage = function (event) {
      var data = event.data;
      if (event.origin !== ORIGIN || !data || data.source !== "sandbox-razorpay") return;
      if (data.event === "success") {
        self.close();
        if (options.handler) options.handler({razorpay_payment_id: data.response.razorpay_payment_id,
                                              razorpay_order_id: data.response.razorpay_order_id,
                                              razorpay_signature: data.response.razorpay_signature});
      } else if (data.event === "failed") {
        (self.listeners["payment.failed"] || []).forEach(function (fn) { fn({error: data.error}); });
      } else if (data.event === "dismiss") {
        self.close();
        if (options.modal && options.modal.ondismiss) options.modal.ondismiss();
      }
    };
  }

  Razorpay.prototype.on = function (name, fn) {
    (this.listeners[name] = this.listeners[name] || []).push(fn);
    return this;
  };

  Razorpay.prototype.open = function () {
    if (this.overlay) return this;
    var query = new URLSearchParams({callback_method: "postmessage", callback_url: window.location.origin,
                                     key: this.options.key});
    var frame = document.createElement("iframe");
    frame.src = BASE + "/checkout/" + encodeURIComponent(this.options.order_id) + "?" + query.toString();
    frame.title = "Razorpay Checkout";
    frame.name = "razorpay-checkout";
    frame.style.cssText = "border:0;width:min(440px,100vw);height:min(600px,100vh);background:#fff;border-radius:8px";
    var overlay = document.createElement("div");
    overlay.className = "razorpay-container";
    overlay.style.cssText = "position:fixed;inset:0;z-index:2147483647;display:flex;align-items:center;" +
                            "justify-content:center;background:rgba(0,0,0,.6)";
    overlay.appendChild(frame);
    document.body.appendChild(overlay);
    this.overlay = overlay;
    window.addEventListener("message", this.onMessage);
    return this;
  };

  Razorpay.prototype.close = function () {
    if (!this.overlay) return;
    window.removeEventListener("message", this.onMessage);
    this.overlay.remove();
    this.overlay = null;
  };

  window.Razorpay = Razorpay;
})();
