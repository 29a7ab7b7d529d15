// Send, for every length of message. NiceGUI's browser side refuses to send a websocket message over 1 MB, so a
// text longer than data-upload-above characters is posted over HTTP first (app/ui/drafts.py), then Send is
// emitted as usual and the page takes the uploaded text instead of the box's value.
(() => {
  const uploadAbove = Number(document.currentScript.dataset.uploadAbove);

  window.chatSend = async (emit) => {
    if (window.chatOffline) return;  // kept in the box (and this browser) until the connection is back
    window.chatFollow?.();
    const box = document.querySelector(".composer textarea");
    const text = box ? box.value : "";
    let uploaded = false;
    if (text.length > uploadAbove) {
      try {
        const response = await fetch("/drafts/" + window.clientId, {
          method: "POST",
          body: text,
          headers: { "Content-Type": "text/plain; charset=utf-8" },
        });
        uploaded = response.ok;
      } catch (error) {
        uploaded = false;
      }
    }
    emit({ length: text.length, uploaded: uploaded });
  };

  // A lone surrogate (half of an emoji, cut) cannot travel as JSON nor be stored: it becomes U+FFFD as it is typed
  // or pasted, before the text box reports its value. Captured on the document, so this runs first.
  document.addEventListener("input", (event) => {
    const box = event.target;
    if (box instanceof HTMLTextAreaElement && box.value.isWellFormed && !box.value.isWellFormed()) {
      box.value = box.value.toWellFormed();
    }
  }, true);
})();
