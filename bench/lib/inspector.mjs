// The worker isolate's JS heap, read through workerd's V8 inspector (Miniflare's inspectorPort option).
import WebSocket from "ws";

/**
 * The isolate's JS heap in use after a full garbage collection, in MB: what the worker's own
 * objects (and its Durable Objects', which share the isolate) hold, apart from the runtime's native memory.
 */
export async function heapUsedMb(port) {
  const target = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()).find((t) => t.webSocketDebuggerUrl);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
  let id = 0;
  const call = (method) =>
    new Promise((resolve) => {
      const mine = ++id;
      const onMessage = (raw) => {
        const message = JSON.parse(String(raw));
        if (message.id !== mine) return;
        ws.off("message", onMessage);
        resolve(message.result);
      };
      ws.on("message", onMessage);
      ws.send(JSON.stringify({ id: mine, method }));
    });
  try {
    await call("HeapProfiler.enable");
    await call("HeapProfiler.collectGarbage");
    return (await call("Runtime.getHeapUsage")).usedSize / 1048576;
  } finally {
    ws.close();
  }
}
