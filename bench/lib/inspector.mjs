// workerd's V8 inspector (Miniflare's inspectorPort option): the worker isolate's heap, for the soak and the
// runtime-memory probe.
import WebSocket from "ws";

/**
 * Connects to the first inspectable isolate on `port`. `call(method, params)` answers the method's result; events of
 * `HeapProfiler.addHeapSnapshotChunk` are collected in `snapshotChunks`. An idle isolate serves the inspector only
 * while it runs something: with `wake` (an async function that sends the worker a request), requests are sent until
 * each answer comes.
 */
export async function openInspector(port, { wake } = {}) {
  const target = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()).find((t) => t.webSocketDebuggerUrl);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
  let id = 0;
  const pending = new Map();
  const inspector = {
    snapshotChunks: [],
    async call(method, params = {}) {
      let answered = false;
      const answer = new Promise((resolve) => pending.set(++id, resolve)).then((message) => {
        answered = true;
        return message.result;
      });
      ws.send(JSON.stringify({ id, method, params }));
      if (wake) while (!answered) await wake();
      return answer;
    },
    close: () => ws.close(),
  };
  ws.on("message", (raw) => {
    const message = JSON.parse(String(raw));
    if (message.method === "HeapProfiler.addHeapSnapshotChunk") inspector.snapshotChunks.push(message.params.chunk);
    if (!message.id || !pending.has(message.id)) return;
    pending.get(message.id)(message);
    pending.delete(message.id);
  });
  return inspector;
}

/**
 * The isolate's JS heap in use after a full garbage collection, in MB: what the worker's own
 * objects (and its Durable Objects', which share the isolate) hold, apart from the runtime's native memory. Pass
 * `wake` (see openInspector) when the isolate may be idle: an idle one leaves the inspector unanswered.
 */
export async function heapUsedMb(port, { wake } = {}) {
  const inspector = await openInspector(port, { wake });
  try {
    await inspector.call("HeapProfiler.enable");
    await inspector.call("HeapProfiler.collectGarbage");
    return (await inspector.call("Runtime.getHeapUsage")).usedSize / 1048576;
  } finally {
    inspector.close();
  }
}
