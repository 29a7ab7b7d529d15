// Where a reply's patches arrive (streaming_markdown.py sends `chatPatch(...)`). Loaded before any patch can
// come: a patch for an element not mounted yet waits in chatPending until streaming_markdown.js takes it.
window.chatReplies = new Map();
window.chatPending = new Map();
window.chatPatch = (id, seq, keep, stable, append) => {
  const key = "c" + id, view = window.chatReplies.get(key);
  if (view) view.applyPatch(seq, keep, stable, append);
  else (window.chatPending.get(key) || window.chatPending.set(key, []).get(key)).push([seq, keep, stable, append]);
};
